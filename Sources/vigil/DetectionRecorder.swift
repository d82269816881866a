import Foundation
import Kafka
import Synchronization
import VigilCore
import VigilService
import VigilTraffic

/// Tallies Vigil's outcomes against the generator's ground truth for the demo's detection table: the traffic feeder
/// hands it each transaction's truth, and it reads back where Vigil put each one (`fraud.decisions`, `fraud.late`,
/// `fraud.dlq`) while Vigil writes them. Read as they come, like `FeatureRecorder`: the embedded mock cluster keeps
/// only the newest few megabytes of each partition.
final class DetectionRecorder: Sendable {
    /// Shared with the reader's handler (a `Mutex` cannot be copied into it).
    private final class Tally: Sendable {
        let value = Mutex(DetectionTally())
    }

    private let tally = Tally()
    private let reader: DemoTopicReader

    init(brokers: String, topics: Topics, partitions: Int32) throws {
        let tally = self.tally
        reader = try DemoTopicReader(
            brokers: brokers,
            partitions: [topics.decisions, topics.late, topics.dlq].flatMap { topic in
                (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
            },
            name: "vigil-demo-detection", what: "Vigil's outputs", config: ["isolation.level": "read_committed"]
        ) { batch in
            let outcomes = batch.compactMap { Self.outcome($0, topics) }
            tally.value.withLock { tally in
                for (id, outcome) in outcomes { tally.record(outcome, transactionId: id) }
            }
        }
    }

    /// The ground truth of one generated transaction (called by the traffic thread).
    func expect(_ truth: GroundTruth) {
        tally.value.withLock { $0.expect(truth) }
    }

    /// Starts reading outcomes on a thread of its own.
    func start() { reader.start() }

    /// Once Vigil and the traffic have stopped: reads the rest, up to the end of every partition (20 s at most), and
    /// returns the detection.
    func finish() -> DetectionReport {
        reader.finish()
        return tally.value.withLock { $0.report }
    }

    /// The transaction and its outcome; nil for a message without a transaction id (a malformed input on the DLQ).
    private static func outcome(_ message: KafkaMessage, _ topics: Topics) -> (String, TransactionOutcome)? {
        if message.topic == topics.decisions {
            // Keyed by transaction id (contract); the verdict is read from the compact JSON Vigil writes.
            guard let key = message.key, let verdict = Self.verdict(in: message.value) else { return nil }
            return (String(decoding: key, as: UTF8.self), .decided(verdict))
        }
        // A late or dead-lettered copy is the original transaction's body.
        guard let object = try? JSONSerialization.jsonObject(with: Data(message.value)) as? [String: Any],
            let id = object["transaction_id"] as? String
        else { return nil }
        return (id, message.topic == topics.late ? .late : .deadLettered)
    }

    private static let verdictField = Array(#""verdict":""#.utf8)

    static func verdict(in value: [UInt8]) -> Verdict? {
        let field = verdictField
        guard value.count > field.count else { return nil }
        for start in 0...(value.count - field.count) where value[start] == field[0] {
            guard value[start..<start + field.count].elementsEqual(field) else { continue }
            let rest = value[(start + field.count)...]
            return Verdict.allCases.first { rest.starts(with: Array($0.name.utf8) + [UInt8(ascii: "\"")]) }
        }
        return nil
    }
}
