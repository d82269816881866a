import Foundation
import Kafka
import XCTest

final class KafkaConsumerGroupTests: XCTestCase {
    /// A group member gets every partition, commits what it read, reports revocation on close, and a new
    /// member of the same group resumes after the committed offsets.
    func testGroupConsumerCommitsAndSuccessorResumes() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("transactions")
        let group = uniqueName("scorer")
        try cluster.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(config: producerConfig(cluster))
        try produceAll(producer, topic: topic, values: (0..<500).map { "first-\($0)" }) { "card-\($0 % 50)" }

        let log = RebalanceLog()
        let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: group), rebalance: log.handler)
        try consumer.subscribe(topics: [topic])
        let started = Date()
        let messages = try readMessages(consumer, count: 500)
        print("first member: 500 messages after \(Date().timeIntervalSince(started)) s (includes group join)")
        XCTAssertEqual(messages.count, 500)
        XCTAssertEqual(Set(messages.map { text($0.value) }).count, 500)

        let all = (0..<3).map { TopicPartition(topic: topic, partition: $0) }
        XCTAssertEqual(log.assigned, [all])
        XCTAssertEqual(try consumer.assignment(), all)

        var next: [TopicPartition: Int64] = [:]
        for message in messages { next[message.topicPartition] = max(next[message.topicPartition] ?? 0, message.offset + 1) }
        try consumer.commit(next, async: false)
        XCTAssertEqual(try consumer.committed(all, timeoutMs: 5000), next)

        // An async commit's failure surfaces through the commit callback served by pollBatch.
        let topicAuthorizationFailed: Int32 = 29
        try cluster.pushRequestErrors(apiKey: 8, errors: [topicAuthorizationFailed])
        try consumer.commit(next, async: true)
        let commitDeadline = Date().addingTimeInterval(5)
        while consumer.commitFailureCount == 0, Date() < commitDeadline {
            XCTAssertTrue(try consumer.pollBatch(maxMessages: 10, timeoutMs: 100).isEmpty)
        }
        XCTAssertEqual(consumer.commitFailureCount, 1)
        XCTAssertEqual(consumer.lastCommitError?.code, topicAuthorizationFailed)

        try consumer.close()
        XCTAssertEqual(log.revoked, [all])

        try produceAll(producer, topic: topic, values: (0..<100).map { "second-\($0)" }) { "card-\($0 % 50)" }
        let successorLog = RebalanceLog()
        let successor = try KafkaConsumer(config: consumerConfig(cluster, group: group), rebalance: successorLog.handler)
        try successor.subscribe(topics: [topic])
        let resumed = try readMessages(successor, count: 100)
        let extra = try successor.pollBatch(maxMessages: 100, timeoutMs: 500)
        XCTAssertEqual(resumed.count, 100)
        XCTAssertTrue(extra.isEmpty, "received \(extra.count) messages beyond the new ones")
        XCTAssertTrue(resumed.allSatisfy { text($0.value).hasPrefix("second-") })
        XCTAssertEqual(successorLog.assigned, [all])
        try successor.close()
    }

    /// Offsets returned by `onAssign` replace the committed/reset position.
    func testOnAssignOverrideSetsStartingOffset() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("replay")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(cluster))
        try produceAll(producer, topic: topic, values: (0..<100).map { "m-\($0)" }) { _ in "k" }

        let partition = TopicPartition(topic: topic, partition: 0)
        let log = RebalanceLog(overrides: [partition: 90])
        let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: uniqueName("replay")), rebalance: log.handler)
        try consumer.subscribe(topics: [topic])
        let messages = try readMessages(consumer, count: 10)
        XCTAssertEqual(messages.map(\.offset), Array(90..<100))
        XCTAssertEqual(messages.map { text($0.value) }, (90..<100).map { "m-\($0)" })
        XCTAssertTrue(try consumer.pollBatch(maxMessages: 10, timeoutMs: 300).isEmpty)
        XCTAssertEqual(log.assigned, [[partition]])
    }

    /// Two members that join before production split a 4-partition topic and together see every message
    /// exactly once (eager protocol).
    func testTwoMembersSplitPartitionsEager() throws {
        try checkTwoMembersSplitPartitions(strategy: "range")
    }

    /// Same with the cooperative protocol (incremental assign/unassign). It needs two rebalances, each
    /// waiting session.timeout.ms - 1 s on the mock, so this test uses a shorter session timeout.
    func testTwoMembersSplitPartitionsCooperative() throws {
        try checkTwoMembersSplitPartitions(strategy: "cooperative-sticky", sessionTimeoutMs: 3000)
    }

    /// A member holding prefetched messages when its partitions are revoked returns none of them, so the
    /// group as a whole still delivers each message exactly once (nothing is committed here, so the new
    /// owners start from the beginning again). On librdkafka 2.0.2 the prefetched messages are discarded
    /// by librdkafka itself (the revocation is served first); `pollBatch` drops what it had already taken.
    func testBatchDropsMessagesOfRevokedPartitions() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("revoke")
        let group = uniqueName("revoke")
        try cluster.createTopic(topic, partitions: 4)
        let logs = [RebalanceLog(), RebalanceLog()]
        let consumers = try logs.map { try KafkaConsumer(config: consumerConfig(cluster, group: group), rebalance: $0.handler) }

        try consumers[0].subscribe(topics: [topic])
        let started = Date()
        while try consumers[0].assignment().isEmpty, Date().timeIntervalSince(started) < 20 {
            XCTAssertTrue(try consumers[0].pollBatch(maxMessages: 100, timeoutMs: 100).isEmpty)
        }
        let producer = try KafkaProducer(config: producerConfig(cluster))
        let count = 400
        try produceAll(producer, topic: topic, values: (0..<count).map { "v-\($0)" }) { "card-\($0)" }

        // The second member joins while the first has the messages prefetched but not yet polled.
        try consumers[1].subscribe(topics: [topic])
        let joinStarted = Date()
        var received: [[KafkaMessage]] = [[], []]
        while Date().timeIntervalSince(joinStarted) < 1.5 {
            received[1] += try consumers[1].pollBatch(maxMessages: 1000, timeoutMs: 100)
        }
        let batch = try consumers[0].pollBatch(maxMessages: 10_000, timeoutMs: 1000)
        print("batch polled during revocation: \(batch.count) messages, \(consumers[0].droppedOnRevokeCount) dropped; revocations: \(logs[0].revoked)")
        XCTAssertEqual(logs[0].revoked.count, 1, "the first member's partitions should be revoked inside pollBatch")
        XCTAssertTrue(batch.isEmpty, "messages of revoked partitions must not be returned")
        received[0] += batch

        let deadline = Date().addingTimeInterval(60)
        while received[0].count + received[1].count < count, Date() < deadline {
            for (index, consumer) in consumers.enumerated() {
                received[index] += try consumer.pollBatch(maxMessages: 1000, timeoutMs: 50)
            }
        }
        print("rebalance after revocation: done \(Date().timeIntervalSince(joinStarted)) s after the second join")
        for index in 0..<2 { received[index] += try consumers[index].pollBatch(maxMessages: 1000, timeoutMs: 200) }
        let values = (received[0] + received[1]).map { text($0.value) }
        XCTAssertEqual(values.count, count, "each message exactly once across the group")
        XCTAssertEqual(Set(values).count, count)
        XCTAssertEqual(try consumers[0].assignment().count, 2)
        XCTAssertEqual(try consumers[1].assignment().count, 2)
        for consumer in consumers { try consumer.close() }
    }

    private func checkTwoMembersSplitPartitions(strategy: String, sessionTimeoutMs: Int = 6000) throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("split")
        let group = uniqueName("split")
        try cluster.createTopic(topic, partitions: 4)
        let config = consumerConfig(
            cluster, group: group,
            ["partition.assignment.strategy": strategy, "session.timeout.ms": "\(sessionTimeoutMs)"]
        )
        let logs = [RebalanceLog(), RebalanceLog()]
        let consumers = try logs.map { try KafkaConsumer(config: config, rebalance: $0.handler) }
        let all = (0..<4).map { TopicPartition(topic: topic, partition: $0) }

        let started = Date()
        try consumers[0].subscribe(topics: [topic])
        var early: [KafkaMessage] = []
        while try consumers[0].assignment().isEmpty, Date().timeIntervalSince(started) < 20 {
            early += try consumers[0].pollBatch(maxMessages: 100, timeoutMs: 100)
        }
        print("[\(strategy)] first member assigned after \(Date().timeIntervalSince(started)) s")
        try consumers[1].subscribe(topics: [topic])
        let secondJoin = Date()
        var assignments: [[TopicPartition]] = [[], []]
        while Date().timeIntervalSince(secondJoin) < 30 {
            for (index, consumer) in consumers.enumerated() {
                early += try consumer.pollBatch(maxMessages: 100, timeoutMs: 100)
                assignments[index] = try consumer.assignment()
            }
            if !assignments[0].isEmpty, !assignments[1].isEmpty, (assignments[0] + assignments[1]).sorted() == all { break }
        }
        print("[\(strategy)] rebalance to two members took \(Date().timeIntervalSince(secondJoin)) s: \(assignments)")
        print("[\(strategy)] assign/revoke calls: \(logs.map { ($0.assigned, $0.revoked) })")
        XCTAssertTrue(early.isEmpty)
        XCTAssertEqual(assignments[0].count, 2)
        XCTAssertEqual(assignments[1].count, 2)
        XCTAssertEqual((assignments[0] + assignments[1]).sorted(), all)

        let producer = try KafkaProducer(config: producerConfig(cluster))
        let count = 400
        try produceAll(producer, topic: topic, values: (0..<count).map { "v-\($0)" }) { "card-\($0)" }

        var received: [[KafkaMessage]] = [[], []]
        let deadline = Date().addingTimeInterval(20)
        while received[0].count + received[1].count < count, Date() < deadline {
            for (index, consumer) in consumers.enumerated() {
                received[index] += try consumer.pollBatch(maxMessages: 1000, timeoutMs: 50)
            }
        }
        for index in 0..<2 {
            XCTAssertFalse(received[index].isEmpty)
            XCTAssertTrue(received[index].allSatisfy { assignments[index].contains($0.topicPartition) })
        }
        let values = (received[0] + received[1]).map { text($0.value) }
        XCTAssertEqual(values.count, count)
        XCTAssertEqual(Set(values), Set((0..<count).map { "v-\($0)" }))
        for consumer in consumers { try consumer.close() }
    }
}
