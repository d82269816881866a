import Foundation
import Kafka
import XCTest
@testable import VigilTraining

final class KafkaHistoryTests: XCTestCase {
    /// A bounded replay reads every partition from the beginning to the high watermark (found by probing
    /// partition numbers), and gives the same result as the same history from files.
    func testReplayMatchesFiles() throws {
        let cluster = try MockKafkaCluster()
        let history = SyntheticHistory(count: 3000, seed: 11)
        try cluster.createTopic("t.features", partitions: 3)
        try cluster.createTopic("t.labels", partitions: 4)
        let producer = try KafkaProducer(config: ["bootstrap.servers": cluster.bootstrapServers])
        for (i, line) in history.features.enumerated() {
            try producer.produce(topic: "t.features", key: Array("tx-\(i)".utf8), value: Array(line.utf8))
        }
        try producer.produce(topic: "t.features", key: Array("bad".utf8), value: Array("not json".utf8))
        for line in history.labels { try producer.produce(topic: "t.labels", key: nil, value: Array(line.utf8), partition: 1) }
        XCTAssertEqual(try producer.flush(timeoutMs: 10_000).failed, 0)

        let features = KafkaTopicHistory(brokers: cluster.bootstrapServers, topic: "t.features", stallTimeoutMs: 10_000)
        let labels = KafkaTopicHistory(brokers: cluster.bootstrapServers, topic: "t.labels", stallTimeoutMs: 10_000)
        var count = 0
        let summary = try features.read({ _ in count += 1 }, progress: { _ in })
        XCTAssertEqual(count, 3001)
        XCTAssertEqual(summary.records, 3001)
        XCTAssertTrue(summary.description.hasPrefix("kafka:t.features[0]=0.."), summary.description)
        XCTAssertEqual(try features.read({ _ in }, progress: { _ in }).sha256, summary.sha256)
        let labelSummary = try labels.read({ _ in }, progress: { _ in })
        XCTAssertEqual(labelSummary.records, history.labels.count)
        XCTAssertTrue(labelSummary.description.contains("[0]=0..0"), labelSummary.description)  // empty partitions are fine

        let job = TrainingJob(options: TrainingOptions(), version: "v", startedAtMs: 0)
        let fromKafka = try job.run(features: features, labels: labels, current: nil)
        let fromMemory = try job.run(features: MemorySource(lines: history.features), labels: MemorySource(lines: history.labels), current: nil)
        XCTAssertEqual(fromKafka.counts.featureRecords, 3001)
        XCTAssertEqual(fromKafka.counts.badFeatureRecords, 1)
        var kafkaCounts = fromKafka.counts
        kafkaCounts.featureRecords -= 1
        kafkaCounts.badFeatureRecords -= 1
        XCTAssertEqual(kafkaCounts, fromMemory.counts)
        // Rows are sorted by (event time, key) before fitting, so read order does not change the model.
        XCTAssertEqual(fromKafka.model.features, fromMemory.model.features)
        XCTAssertEqual(fromKafka.model.bias, fromMemory.model.bias)
    }

    /// A topic that does not exist is an error, or (where the cluster creates topics on first use, as the mock
    /// does) an empty history; never a hang.
    func testMissingTopicIsEmptyOrAnError() throws {
        let cluster = try MockKafkaCluster()
        let source = KafkaTopicHistory(brokers: cluster.bootstrapServers, topic: "missing", stallTimeoutMs: 2000)
        do {
            let summary = try source.read({ _ in }, progress: { _ in })
            XCTAssertEqual(summary.records, 0)
        } catch {
            XCTAssertTrue("\(error)".contains("missing"), "\(error)")
        }
    }
}
