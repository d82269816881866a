import Foundation
import Kafka
import Synchronization

/// Copies `fraud.features` into the demo's features.jsonl while Vigil writes it. A copy made at the end would miss
/// the first weeks: the embedded mock cluster keeps only the newest few megabytes of each partition.
final class FeatureRecorder: Sendable {
    private let consumer: KafkaConsumer
    private let partitions: [TopicPartition]
    private let file: DemoLineFile
    private let draining = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(brokers: String, topic: String, partitions: Int32, file: DemoLineFile) throws {
        consumer = try KafkaConsumer(config: [
            "bootstrap.servers": brokers, "group.id": "vigil-demo-feature-recorder", "enable.auto.commit": "false",
            "client.id": "vigil-demo-features",
        ])
        self.partitions = (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
        self.file = file
        var start: [TopicPartition: Int64] = [:]
        for tp in self.partitions { start[tp] = KafkaOffset.beginning }
        try consumer.assign(start)
    }

    /// Starts copying on a thread of its own.
    func start() {
        let thread = Thread { [self] in
            while !draining.load(ordering: .relaxed) { copyBatch() }
            drain()
            try? consumer.close()
            done.signal()
        }
        thread.name = "vigil-demo-features"
        thread.start()
    }

    /// Once Vigil has stopped: copies the rest, up to the end of every partition (20 s at most), and returns how
    /// many records were copied in all.
    func finish() -> Int {
        draining.store(true, ordering: .relaxed)
        done.wait()
        return file.lines
    }

    private func copyBatch() {
        guard let batch = try? consumer.pollBatch(maxMessages: 1000, timeoutMs: 100) else { return }
        for message in batch { file.write(message.value) }
    }

    private func drain() {
        var ends: [TopicPartition: Int64] = [:]
        for tp in partitions {
            if let marks = try? consumer.watermarks(tp, timeoutMs: 5000) { ends[tp] = marks.high }
        }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            // Positions, not message offsets: a transaction's commit marker takes an offset without being a message.
            let positions = (try? consumer.positions(partitions)) ?? [:]
            if ends.allSatisfy({ tp, end in (positions[tp] ?? -1) >= end || end == 0 }) { return }
            copyBatch()
        }
        FileHandle.standardError.write(Data("demo: fraud.features not copied to its end within 20 s\n".utf8))
    }
}
