import Kafka
import XCTest

@testable import VigilService

final class BatchPartitionsTests: XCTestCase {
    func message(_ topic: String, _ partition: Int32, _ offset: Int64) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: partition, offset: offset, key: nil, value: [])
    }

    func testSlotsFollowFirstAppearanceAcrossRunsAndTopics() {
        var parts = BatchPartitions()
        let messages = [
            message("t", 3, 10), message("t", 3, 11), message("t", 0, 5), message("u", 3, 1),
            message("t", 3, 12), message("t", 0, 6), message("u", 3, 2),
        ]
        let slots = messages.map { parts.slot(of: $0) }
        XCTAssertEqual(slots, [0, 0, 1, 2, 0, 1, 2])
        XCTAssertEqual(parts.all, [
            TopicPartition(topic: "t", partition: 3), TopicPartition(topic: "t", partition: 0),
            TopicPartition(topic: "u", partition: 3),
        ])
        XCTAssertEqual(parts.dictionary([10, 5, 1]), [
            TopicPartition(topic: "t", partition: 3): 10, TopicPartition(topic: "t", partition: 0): 5,
            TopicPartition(topic: "u", partition: 3): 1,
        ])
    }

    func testEarliestTakesEachPartitionsSmallerOffset() {
        let a = TopicPartition(topic: "t", partition: 0)
        let b = TopicPartition(topic: "t", partition: 1)
        let c = TopicPartition(topic: "t", partition: 2)
        XCTAssertEqual(Pipeline.earliest([a: 10, b: 7], [b: 3, c: 9]), [a: 10, b: 3, c: 9])
    }
}
