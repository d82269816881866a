import Foundation
import Kafka
import XCTest

final class KafkaProducerConsumerTests: XCTestCase {
    /// 1,000 keyed messages with headers round-trip through a 3-partition topic with keys, values, headers
    /// and offsets intact, and each key stays on one partition.
    func testProduceThenReadBackWithManualAssignment() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("payments")
        try cluster.createTopic(topic, partitions: 3)

        let producer = try KafkaProducer(config: producerConfig(cluster))
        let count = 1000
        for index in 0..<count {
            try producer.produce(
                topic: topic, key: bytes("card-\(index % 37)"), value: bytes("value-\(index)"),
                headers: [KafkaHeader(name: "seq", value: bytes("\(index)")), KafkaHeader(name: "source", value: bytes("test"))]
            )
        }
        let outcome = try producer.flush(timeoutMs: 10_000)
        XCTAssertEqual(outcome.delivered, count)
        XCTAssertEqual(outcome.failed, 0)
        XCTAssertTrue(outcome.errors.isEmpty)
        XCTAssertEqual(producer.outstandingCount, 0)
        XCTAssertEqual(try producer.flush(timeoutMs: 1000).delivered, 0, "a second flush reports only new deliveries")

        let consumer = try KafkaConsumer(config: consumerConfig(cluster))
        let partitions = (0..<3).map { TopicPartition(topic: topic, partition: $0) }
        try consumer.assign(Dictionary(uniqueKeysWithValues: partitions.map { ($0, KafkaOffset.beginning) }))
        XCTAssertEqual(try consumer.assignment(), partitions)

        let messages = try readMessages(consumer, count: count)
        XCTAssertEqual(messages.count, count)

        var seen = Set<Int>()
        var partitionOfKey: [String: Int32] = [:]
        var offsetsByPartition: [Int32: [Int64]] = [:]
        var sequenceByPartition: [Int32: [Int]] = [:]
        for message in messages {
            XCTAssertEqual(message.topic, topic)
            let value = text(message.value)
            let index = try XCTUnwrap(Int(value.dropFirst("value-".count)))
            XCTAssertTrue(seen.insert(index).inserted, "duplicate \(value)")
            let key = text(try XCTUnwrap(message.key))
            XCTAssertEqual(key, "card-\(index % 37)")
            XCTAssertEqual(message.headers.map(\.0), ["seq", "source"])
            XCTAssertEqual(message.headers.map { text($0.1) }, ["\(index)", "test"])
            XCTAssertNotNil(message.timestampMs)
            if let earlier = partitionOfKey.updateValue(message.partition, forKey: key) {
                XCTAssertEqual(earlier, message.partition, "key \(key) moved partitions")
            }
            offsetsByPartition[message.partition, default: []].append(message.offset)
            sequenceByPartition[message.partition, default: []].append(index)
        }
        XCTAssertEqual(seen.count, count)
        XCTAssertGreaterThan(offsetsByPartition.count, 1, "37 keys should spread over more than one partition")
        for (partition, offsets) in offsetsByPartition {
            XCTAssertEqual(offsets, (0..<Int64(offsets.count)).map { $0 }, "partition \(partition) offsets not contiguous from 0")
            XCTAssertEqual(sequenceByPartition[partition], sequenceByPartition[partition]?.sorted(), "order kept within partition")
            let marks = try consumer.watermarks(TopicPartition(topic: topic, partition: partition), timeoutMs: 5000)
            XCTAssertEqual(marks.low, 0)
            XCTAssertEqual(marks.high, Int64(offsets.count))
        }
        XCTAssertEqual(consumer.consumeErrorCount, 0)
        try consumer.close()
        try consumer.close()  // idempotent
    }

    /// Seek rewinds a partition; pause holds one back while others flow; resume releases it.
    func testSeekPauseResumeAndPositions() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("control")
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(config: producerConfig(cluster))
        for index in 0..<20 {
            try producer.produce(topic: topic, key: nil, value: bytes("a-\(index)"), partition: Int32(index % 2))
        }
        XCTAssertEqual(try producer.flush(timeoutMs: 10_000).delivered, 20)

        let p0 = TopicPartition(topic: topic, partition: 0)
        let p1 = TopicPartition(topic: topic, partition: 1)
        let consumer = try KafkaConsumer(config: consumerConfig(cluster))
        try consumer.assign([p0: KafkaOffset.beginning, p1: 5])
        let first = try readMessages(consumer, count: 15)
        XCTAssertEqual(first.filter { $0.partition == 0 }.map(\.offset), Array(0..<10))
        XCTAssertEqual(first.filter { $0.partition == 1 }.map(\.offset), Array(5..<10))
        XCTAssertEqual(try consumer.positions([p0, p1]), [p0: 10, p1: 10])
        XCTAssertEqual(consumer.cachedWatermarks(p0)?.high, 10)

        try consumer.seek(p0, to: 7, timeoutMs: 5000)
        let replay = try readMessages(consumer, count: 3)
        XCTAssertEqual(replay.map(\.topicPartition), [p0, p0, p0])
        XCTAssertEqual(replay.map(\.offset), [7, 8, 9])

        try consumer.pause([p1])
        for index in 0..<4 {
            try producer.produce(topic: topic, key: nil, value: bytes("b-\(index)"), partition: Int32(index % 2))
        }
        XCTAssertEqual(try producer.flush(timeoutMs: 10_000).delivered, 4)
        let whilePaused = try readMessages(consumer, count: 2)
        XCTAssertEqual(whilePaused.map(\.topicPartition), [p0, p0])
        XCTAssertTrue(try consumer.pollBatch(maxMessages: 10, timeoutMs: 300).isEmpty, "paused partition delivered")
        try consumer.resume([p1])
        let resumed = try readMessages(consumer, count: 2)
        XCTAssertEqual(resumed.map(\.topicPartition), [p1, p1])
        XCTAssertEqual(resumed.map(\.offset), [10, 11])
    }

    /// A raw-buffer produce with an explicit partition and no key lands where it was sent, with a null key.
    func testRawBufferProduceToExplicitPartition() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("raw")
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(config: producerConfig(cluster))
        let payload: [UInt8] = [0, 1, 2, 255]
        try payload.withUnsafeBytes { value in
            try producer.produce(topic: topic, key: nil, value: value, partition: 1)
        }
        try producer.produce(topic: topic, key: nil, value: [], partition: 1)
        XCTAssertEqual(try producer.flush(timeoutMs: 10_000).delivered, 2)

        let consumer = try KafkaConsumer(config: consumerConfig(cluster))
        try consumer.assign([TopicPartition(topic: topic, partition: 1): KafkaOffset.beginning])
        let messages = try readMessages(consumer, count: 2)
        XCTAssertEqual(messages.map(\.value), [payload, []])
        XCTAssertEqual(messages.map(\.partition), [1, 1])
        XCTAssertEqual(messages.map { $0.key == nil }, [true, true])
        XCTAssertEqual(messages.map { $0.headers.isEmpty }, [true, true])
    }
}
