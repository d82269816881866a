@testable import Kafka
import XCTest

/// The part of `pollBatch` that forgets collected messages of revoked partitions (the race that produces
/// such messages cannot be forced against the mock cluster).
final class RevokedMessageDropTests: XCTestCase {
    func testRemovesOnlyMessagesOfRevokedPartitions() {
        func message(_ topic: String, _ partition: Int32, _ offset: Int64) -> KafkaMessage {
            KafkaMessage(topic: topic, partition: partition, offset: offset, key: nil, value: [])
        }
        var messages = [message("a", 0, 1), message("a", 1, 1), message("b", 0, 1), message("a", 0, 2), message("a", 2, 5)]
        let revoked: Set = [TopicPartition(topic: "a", partition: 0), TopicPartition(topic: "a", partition: 2)]
        XCTAssertEqual(KafkaConsumer.removeMessages(of: revoked, from: &messages), 3)
        XCTAssertEqual(messages.map(\.topicPartition), [TopicPartition(topic: "a", partition: 1), TopicPartition(topic: "b", partition: 0)])
        XCTAssertEqual(KafkaConsumer.removeMessages(of: [], from: &messages), 0)
    }

    func testTopicPartitionOrderAndDescription() {
        let sorted = [TopicPartition(topic: "b", partition: 0), TopicPartition(topic: "a", partition: 10), TopicPartition(topic: "a", partition: 2)].sorted()
        XCTAssertEqual(sorted.map(\.description), ["a[2]", "a[10]", "b[0]"])
    }
}
