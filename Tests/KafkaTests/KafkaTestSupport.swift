import Foundation
import Kafka
import XCTest

/// A unique name per call, so tests never share topics or groups.
func uniqueName(_ prefix: String) -> String {
    "\(prefix)-\(UInt32.random(in: 0...UInt32.max))"
}

func producerConfig(_ cluster: MockKafkaCluster, _ extra: [String: String] = [:]) -> [String: String] {
    ["bootstrap.servers": cluster.bootstrapServers, "enable.idempotence": "true", "linger.ms": "5"]
        .merging(extra) { _, new in new }
}

/// Consumer settings the mock cluster needs: without the short session timeout every rebalance takes ~44 s.
func consumerConfig(_ cluster: MockKafkaCluster, group: String? = nil, _ extra: [String: String] = [:]) -> [String: String] {
    var config = [
        "bootstrap.servers": cluster.bootstrapServers,
        "auto.offset.reset": "earliest",
        "enable.partition.eof": "false",
        "session.timeout.ms": "6000",
        "heartbeat.interval.ms": "500",
    ]
    if let group { config["group.id"] = group }
    return config.merging(extra) { _, new in new }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Polls until `count` messages arrived or `timeoutMs` passed.
func readMessages(_ consumer: KafkaConsumer, count: Int, timeoutMs: Int = 20_000) throws -> [KafkaMessage] {
    var messages: [KafkaMessage] = []
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1000)
    while messages.count < count && Date() < deadline {
        messages += try consumer.pollBatch(maxMessages: count - messages.count, timeoutMs: 200)
    }
    return messages
}

/// Produces `values` to `topic` (keyed by `key(i)`) and waits for all of them to be delivered.
func produceAll(_ producer: KafkaProducer, topic: String, values: [String], key: (Int) -> String) throws {
    for (index, value) in values.enumerated() {
        try producer.produce(topic: topic, key: bytes(key(index)), value: bytes(value))
    }
    let outcome = try producer.flush(timeoutMs: 10_000)
    XCTAssertEqual(outcome.delivered, values.count, "delivery errors: \(outcome.errors)")
}

/// Records rebalance callbacks; shared between the test thread and the handler closures.
final class RebalanceLog: @unchecked Sendable {
    // @unchecked Sendable is safe: every field is read and written under `lock`.
    private let lock = NSLock()
    private var _assigned: [[TopicPartition]] = []
    private var _revoked: [[TopicPartition]] = []
    private let overrides: [TopicPartition: Int64]

    init(overrides: [TopicPartition: Int64] = [:]) {
        self.overrides = overrides
    }

    var assigned: [[TopicPartition]] { lock.withLock { _assigned } }
    var revoked: [[TopicPartition]] { lock.withLock { _revoked } }

    var handler: RebalanceHandler {
        RebalanceHandler(
            onAssign: { partitions in
                self.lock.withLock { self._assigned.append(partitions.sorted()) }
                return self.overrides.filter { partitions.contains($0.key) }
            },
            onRevoke: { partitions in
                self.lock.withLock { self._revoked.append(partitions.sorted()) }
            }
        )
    }
}
