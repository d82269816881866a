import Foundation
import Dispatch
import Kafka

/// Reads Vigil's decisions, late and DLQ topics on its own thread, from their end offsets at start, and hands each
/// polled batch to the ledger stamped with its receive time. Like a payment system waiting for its answer: no
/// group, plain assignment of every partition.
final class OutcomeReader: @unchecked Sendable {
    // @unchecked Sendable: the consumer is used by the reader thread only after `start` returns; `running` is locked.
    private let consumer: KafkaConsumer
    private let ledger: Ledger
    private let running = Locked(true)
    private let done = DispatchSemaphore(value: 0)
    let errors = Locked<[String]>([])

    /// Creates the consumer and assigns the outcome topics' partitions at their current end; with `followInput`,
    /// the transactions topic's too, to time when each transaction became readable.
    init(brokers: String, topics: OutputTopicNames, partitions: [String: Int32], ledger: Ledger, followInput: Bool = false) throws {
        consumer = try KafkaConsumer(config: [
            "bootstrap.servers": brokers,
            "client.id": "vigil-loadtest-reader",
            "group.id": "loadtest-reader-\(UInt32.random(in: 0...UInt32.max))",
            "enable.partition.eof": "false",
            "fetch.wait.max.ms": String(LoadTestRun.mockFetchWaitMs),  // see LoadTestRun.mockFetchWaitMs
            "fetch.error.backoff.ms": "10",
            "socket.nagle.disable": "true",
            "isolation.level": "read_committed",
            "auto.offset.reset": "earliest",
        ])
        var start: [TopicPartition: Int64] = [:]
        for topic in topics.outcomes + (followInput ? [topics.transactions] : []) {
            let ends = try KafkaTopology.endOffsets(of: topic, partitions: partitions[topic] ?? 1, consumer: consumer)
            start.merge(ends) { a, _ in a }
        }
        try consumer.assign(start)
        self.ledger = ledger
    }

    func start() {
        let thread = Thread { [self] in
            while running.value {
                do {
                    let batch = try consumer.pollBatch(maxMessages: 10_000, timeoutMs: 50)
                    if !batch.isEmpty { ledger.record(batch, receivedNs: MonotonicClock.nowNs()) }
                } catch {
                    errors.withLock { if $0.count < 5 { $0.append("\(error)") } }
                    MonotonicClock.sleep(seconds: 0.1)
                }
            }
            try? consumer.close()
            done.signal()
        }
        thread.name = "loadtest-reader"
        thread.start()
    }

    /// Stops the thread (waits at most 10 s for it). Idempotent: later calls return at once.
    func stopReading() {
        running.withLock { $0 = false }
        if done.wait(timeout: .now() + 10) == .success { done.signal() }
    }
}

extension OutcomeReader {
    /// Non-fatal consume errors librdkafka reported (e.g. an offset that fell out of the mock's retention).
    var consumeErrors: (count: Int, last: String?) {
        (consumer.consumeErrorCount, consumer.lastConsumeError.map { "\($0)" })
    }
}
