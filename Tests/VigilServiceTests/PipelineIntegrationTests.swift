import Foundation
import Kafka
import VigilCore
import VigilService
import VigilTraffic
import XCTest

/// The real pipeline against librdkafka's mock cluster and a real redis-server, checked against the contract oracle.
final class PipelineIntegrationTests: XCTestCase {
    func testEveryOutputMatchesTheContractExactlyOnce() throws {
        try everyOutputMatchesTheContract(mode: .exactlyOnce)
    }

    func testEveryOutputMatchesTheContractAtLeastOnce() throws {
        try everyOutputMatchesTheContract(mode: .atLeastOnce)
    }

    func everyOutputMatchesTheContract(mode: DeliveryMode) throws {
        let h = try Harness()
        h.config.mode = mode
        let input = traffic(count: 3000)
        try h.publish(input)
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count), "processed \(runner.pipeline.stats.snapshot.processed)")
        runner.stop()
        let stats = runner.pipeline.stats.snapshot
        XCTAssertGreaterThan(stats.rejected, 10)
        XCTAssertGreaterThan(stats.late, 5)
        XCTAssertGreaterThan(stats.verdicts[.block] ?? 0, 0)
        XCTAssertGreaterThan(stats.batches, 5, "several batches, so cards cross batch boundaries")
        XCTAssertGreaterThan(stats.cardsFromUnfinishedBatches, 0, "batches overlapped: cards came from unfinished batches")
        let decided = try checkOutputs(h)
        XCTAssertGreaterThan(decided, 2500)
    }

    func testRestartKeepsFeaturesExact() throws {
        let h = try Harness()
        let input = traffic(count: 3000, seed: 12)
        try h.publish(Array(input[..<1500]))
        let first = try h.makePipeline()
        XCTAssertTrue(first.waitForProcessed(1500))
        first.stop()
        // Vigil is down while the payment systems keep publishing.
        try h.publish(Array(input[1500...]))
        let second = try h.makePipeline()
        XCTAssertTrue(second.waitForProcessed(1500), "processed \(second.pipeline.stats.snapshot.processed)")
        second.stop()
        XCTAssertEqual(second.pipeline.stats.snapshot.processed, 1500, "the second run starts where the first ended")
        try checkOutputs(h)
    }

    func testRedeliveredRecordsAreNotCountedTwice() throws {
        // Offsets committed to Kafka lag behind Redis (as after a crash between storing state and committing). A new
        // instance asks Redis where to start when it is assigned the partition; when Redis cannot answer then, the
        // consumer starts at the committed offset and Kafka hands the applied records over again. They must be
        // polled and skipped, never counted twice.
        let h = try Harness(partitions: 1, persistentRedis: true)
        let input = traffic(count: 600, seed: 13)
        try h.publish(input)
        let first = try h.makePipeline()
        XCTAssertTrue(first.waitForProcessed(600))
        first.stop()
        XCTAssertEqual(h.appliedCount(), 600)
        // Rewind the group's committed offsets to the beginning, as a member of the group.
        let rewinder = try KafkaConsumer(config: [
            "bootstrap.servers": h.cluster.bootstrapServers, "group.id": h.config.group, "enable.auto.commit": "false",
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
        ])
        try rewinder.subscribe(topics: [h.config.topics.transactions])
        let deadline = Date().addingTimeInterval(20)
        while try rewinder.assignment().isEmpty, Date() < deadline { _ = try rewinder.pollBatch(maxMessages: 1, timeoutMs: 100) }
        let tp = TopicPartition(topic: h.config.topics.transactions, partition: 0)
        try rewinder.commit([tp: 0], async: false)
        XCTAssertEqual(try rewinder.committed([tp], timeoutMs: 5000)[tp], 0)
        try rewinder.close()

        // Redis is down while the new instance is assigned the partition, so it starts at the committed offset 0.
        h.redis.stop()
        let second = try h.makePipeline(logLevel: .critical)
        XCTAssertTrue(
            waitUntil(timeout: 60) { second.pipeline.stats.snapshot.pausedReason != nil },
            "the first batch (records from offset 0) found Redis down and paused: \(second.pipeline.stats.snapshot)")
        try h.redis.restart(keepData: true)
        XCTAssertTrue(
            waitUntil(timeout: 60) { second.pipeline.stats.snapshot.skippedAlreadyApplied >= 600 },
            "the 600 applied records were delivered again and skipped: \(second.pipeline.stats.snapshot.skippedAlreadyApplied)")
        second.stop()
        let stats = second.pipeline.stats.snapshot
        XCTAssertEqual(stats.skippedAlreadyApplied, 600, "each redelivered record was skipped once")
        XCTAssertEqual(stats.processed, 0, "nothing is processed twice")
        XCTAssertEqual(h.appliedCount(), 600, "Redis's applied offset did not move")
        try checkOutputs(h)
    }
}
