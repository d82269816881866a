import Foundation
import Kafka
import Synchronization

/// Reads topic partitions of the embedded cluster from their beginning while the demo runs, on a thread of its own,
/// and when asked to finish, up to the end of every partition (20 s at most). Read as they come, not at the end: the
/// embedded mock cluster keeps only the newest few megabytes of each partition.
final class DemoTopicReader: Sendable {
    private let consumer: KafkaConsumer
    private let partitions: [TopicPartition]
    private let name: String
    private let what: String
    private let handle: @Sendable ([KafkaMessage]) -> Void
    private let draining = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    /// `name` is the client id and the thread's name; `what` names the topics in the warning when the end is not
    /// reached in time; `handle` gets each batch read, on the reader's thread.
    init(
        brokers: String, partitions: [TopicPartition], name: String, what: String, config: [String: String] = [:],
        handle: @escaping @Sendable ([KafkaMessage]) -> Void
    ) throws {
        consumer = try KafkaConsumer(config: config.merging([
            "bootstrap.servers": brokers, "group.id": name, "enable.auto.commit": "false", "client.id": name,
        ]) { $1 })
        self.partitions = partitions
        self.name = name
        self.what = what
        self.handle = handle
        var start: [TopicPartition: Int64] = [:]
        for tp in partitions { start[tp] = KafkaOffset.beginning }
        try consumer.assign(start)
    }

    func start() {
        let thread = Thread { [self] in
            while !draining.load(ordering: .relaxed) { readBatch() }
            drain()
            try? consumer.close()
            done.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Once what writes the topics has stopped: reads the rest and returns when done.
    func finish() {
        draining.store(true, ordering: .relaxed)
        done.wait()
    }

    private func readBatch() {
        guard let batch = try? consumer.pollBatch(maxMessages: 1000, timeoutMs: 100), !batch.isEmpty else { return }
        handle(batch)
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
        FileHandle.standardError.write(Data("demo: \(what) not read to their end within 20 s\n".utf8))
    }
}
