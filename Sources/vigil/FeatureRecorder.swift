import Foundation
import Kafka

/// Copies `fraud.features` into the demo's features.jsonl while Vigil writes it. A copy made at the end would miss
/// the first weeks: the embedded mock cluster keeps only the newest few megabytes of each partition.
final class FeatureRecorder: Sendable {
    private let reader: DemoTopicReader
    private let file: DemoLineFile

    init(brokers: String, topic: String, partitions: Int32, file: DemoLineFile) throws {
        self.file = file
        reader = try DemoTopicReader(
            brokers: brokers, partitions: (0..<partitions).map { TopicPartition(topic: topic, partition: $0) },
            name: "vigil-demo-features", what: "fraud.features"
        ) { batch in
            for message in batch { file.write(message.value) }
        }
    }

    /// Starts copying on a thread of its own.
    func start() { reader.start() }

    /// Once Vigil has stopped: copies the rest, up to the end of every partition (20 s at most), and returns how
    /// many records were copied in all.
    func finish() -> Int {
        reader.finish()
        return file.lines
    }
}
