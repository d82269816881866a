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
    private let consumer: KafkaConsumer
    private let topics: Topics
    private let partitions: [TopicPartition]
    private let tally = Mutex(DetectionTally())
    private let draining = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(brokers: String, topics: Topics, partitions: Int32) throws {
        consumer = try KafkaConsumer(config: [
            "bootstrap.servers": brokers, "group.id": "vigil-demo-detection", "enable.auto.commit": "false",
            "client.id": "vigil-demo-detection", "isolation.level": "read_committed",
        ])
        self.topics = topics
        self.partitions = [topics.decisions, topics.late, topics.dlq].flatMap { topic in
            (0..<partitions).map { TopicPartition(topic: topic, partition: $0) }
        }
        var start: [TopicPartition: Int64] = [:]
        for tp in self.partitions { start[tp] = KafkaOffset.beginning }
        try consumer.assign(start)
    }

    /// The ground truth of one generated transaction (called by the traffic thread).
    func expect(_ truth: GroundTruth) {
        tally.withLock { $0.expect(truth) }
    }

    /// Starts reading outcomes on a thread of its own.
    func start() {
        let thread = Thread { [self] in
            while !draining.load(ordering: .relaxed) { readBatch() }
            drain()
            try? consumer.close()
            done.signal()
        }
        thread.name = "vigil-demo-detection"
        thread.start()
    }

    /// Once Vigil and the traffic have stopped: reads the rest, up to the end of every partition (20 s at most), and
    /// returns the detection.
    func finish() -> DetectionReport {
        draining.store(true, ordering: .relaxed)
        done.wait()
        return tally.withLock { $0.report }
    }

    private func readBatch() {
        guard let batch = try? consumer.pollBatch(maxMessages: 1000, timeoutMs: 100), !batch.isEmpty else { return }
        let outcomes = batch.compactMap(outcome)
        tally.withLock { tally in
            for (id, outcome) in outcomes { tally.record(outcome, transactionId: id) }
        }
    }

    /// The transaction and its outcome; nil for a message without a transaction id (a malformed input on the DLQ).
    private func outcome(_ message: KafkaMessage) -> (String, TransactionOutcome)? {
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
            readBatch()
        }
        FileHandle.standardError.write(Data("demo: Vigil's outputs not read to their end within 20 s\n".utf8))
    }
}
