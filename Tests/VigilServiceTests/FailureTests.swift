import Foundation
import Kafka
import VigilCore
import VigilService
import XCTest

/// Vigil as a real process under injected faults: SIGKILL, SIGTERM, Redis restarts, broker faults, rebalances.
/// Every test ends with the contract oracle: every valid transaction decided, features exact.
final class FailureTests: XCTestCase {
    func testCrashesAtRandomPointsLoseNothingAndCountNothingTwice() throws {
        // 8 partitions: the mock cluster shows aborted transactions to readers (no abort filtering), so each kill
        // leaves up to a transaction's worth of identical duplicates, and the feature records of 4 partitions
        // passed the ~5 MB the mock keeps per partition.
        let h = try Harness(partitions: 8)
        h.config.batchSize = 500
        let input = traffic(count: 20_000, seed: 21)
        try h.publish(input)
        var rng = SystemRandomNumberGenerator()
        var vigil = try VigilProcess(h, name: "crash-0")
        for (i, fraction) in [0.15, 0.4, 0.65].enumerated() {
            let target = Int(Double(input.count) * (fraction + Double.random(in: 0..<0.1, using: &rng)))
            XCTAssertTrue(h.waitForApplied(target), "no progress before kill \(i): \(vigil.log.suffix(2000))")
            vigil.kill9()
            vigil = try VigilProcess(h, name: "crash-\(i + 1)")
        }
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(vigil.log.suffix(2000))")
        XCTAssertNotNil(vigil.terminate())
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    func testSigtermFinishesTheBatchAndExitsPromptly() throws {
        let h = try Harness()
        h.config.mode = .atLeastOnce
        let input = traffic(count: 4000, seed: 22)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "sigterm")
        XCTAssertTrue(h.waitForApplied(500))
        let seconds = vigil.terminate(limit: 10)
        XCTAssertNotNil(seconds, "vigil did not exit within 10 s of SIGTERM")
        XCTAssertLessThan(seconds ?? 99, 5)
        XCTAssertTrue(vigil.log.contains("pipeline stopped"), vigil.log.suffix(2000).description)
        // The stopped instance left nothing half done: a successor finishes without emitting anything twice.
        let next = try VigilProcess(h, name: "sigterm-next")
        XCTAssertTrue(h.waitForApplied(input.count))
        XCTAssertNotNil(next.terminate())
        try checkOutputs(h)
    }

    func testRedisRestartKeepingItsData() throws {
        try redisRestart(keepData: true)
    }

    func testRedisRestartLosingItsData() throws {
        try redisRestart(keepData: false)
    }

    func redisRestart(keepData: Bool) throws {
        let h = try Harness(persistentRedis: true)
        let input = traffic(count: 6000, seed: keepData ? 23 : 24)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "redis-restart")
        XCTAssertTrue(h.waitForApplied(2000))
        let logged = vigil.log.count
        h.redis.kill()
        // Vigil notices (a batch fails, or the idle check does when everything was done), then Redis comes back.
        XCTAssertTrue(
            vigil.waitForLog("batch failed, retrying", "idle partition check failed", after: logged),
            "Vigil noticed Redis was gone: \(vigil.log.suffix(3000))")
        try h.redis.restart(keepData: keepData)
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(vigil.log.suffix(3000))")
        XCTAssertNotNil(vigil.terminate())
        XCTAssertTrue(vigil.log.contains("redis"), "the outage is logged")
        if !keepData { XCTAssertTrue(vigil.log.contains("rebuilding"), vigil.log.suffix(3000).description) }
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    func testRedisLosingItsDataWhileVigilIsIdleIsRepairedBeforeTheNextTransaction() throws {
        let h = try Harness(persistentRedis: true)
        let input = traffic(count: 3000, seed: 27)
        try h.publish(Array(input[..<2500]))
        let vigil = try VigilProcess(h, name: "redis-idle")
        XCTAssertTrue(h.waitForApplied(2500))
        // Idle: every record applied and its outputs marked as emitted (the offsets committed).
        XCTAssertTrue(h.waitForCommitted(2500), "committed \(h.committedCount())")
        h.redis.kill()
        try h.redis.restart(keepData: false)
        // Nothing arrives, yet the state comes back: the idle check notices and replays the log.
        XCTAssertTrue(h.waitForApplied(2500, timeout: 60), "state not rebuilt while idle: \(vigil.log.suffix(3000))")
        try h.publish(Array(input[2500...]))
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(vigil.log.suffix(3000))")
        XCTAssertNotNil(vigil.terminate())
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    /// While a partition is rebuilt from the log (Redis lost its state), the records below the emitted mark are replayed
    /// without outputs; the group's offset must stay at the mark meanwhile. Committing only past each replayed batch
    /// moved it back, so a crash during the rebuild emitted the rest of the replayed records a second time.
    func testARebuildFromTheLogNeverMovesTheGroupsOffsetBack() throws {
        let h = try Harness(persistentRedis: true)
        h.config.mode = .atLeastOnce
        h.config.batchSize = 100
        let input = traffic(count: 4000, seed: 31)
        try h.publish(input)
        let first = try h.makePipeline()
        XCTAssertTrue(h.waitForApplied(input.count))
        XCTAssertTrue(h.waitForCommitted(input.count))
        first.stop()
        let before = h.committedCount()
        h.redis.kill()
        try h.redis.restart(keepData: false)

        let reader = try KafkaConsumer(config: ["bootstrap.servers": h.cluster.bootstrapServers, "group.id": h.config.group])
        defer { try? reader.close() }
        let tps = (0..<h.partitions).map { TopicPartition(topic: h.config.topics.transactions, partition: $0) }
        let second = try h.makePipeline()
        var lowest = Int64.max
        var samples = 0
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, h.appliedCount() < Int64(input.count) {
            if let committed = try? reader.committed(tps, timeoutMs: 5000), committed.count == tps.count {
                lowest = min(lowest, committed.values.reduce(0, +))
                samples += 1
            }
        }
        second.stop()
        XCTAssertEqual(h.appliedCount(), Int64(input.count), "the state was rebuilt")
        XCTAssertGreaterThan(samples, 5)
        XCTAssertGreaterThanOrEqual(lowest, before, "the group's offset moved back during the rebuild")
        XCTAssertGreaterThanOrEqual(second.pipeline.stats.snapshot.replayedWithoutOutputs, input.count - 200)
        try checkOutputs(h)  // nothing emitted twice
    }

    func testBrokerDownAndRequestErrors() throws {
        let h = try Harness()
        h.config.mode = .atLeastOnce
        let input = traffic(count: 6000, seed: 25)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "broker", extra: ["--kafka-property", "message.timeout.ms=5000"])
        XCTAssertTrue(h.waitForApplied(1500))
        // Produce (0), Fetch (1) and OffsetCommit (8) requests fail a few times, then the broker goes away for a while.
        try h.cluster.pushRequestErrors(apiKey: 0, errors: [6, 6, 7])  // NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT
        try h.cluster.pushRequestErrors(apiKey: 1, errors: [6, 6])
        try h.cluster.pushRequestErrors(apiKey: 8, errors: [15, 15])  // COORDINATOR_NOT_AVAILABLE
        Thread.sleep(forTimeInterval: 1)  // the errors meet live traffic for a second before the broker goes away
        try h.cluster.setBrokerDown(1)
        Thread.sleep(forTimeInterval: 4)  // the broker stays down this long
        try h.cluster.setBrokerUp(1)
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(vigil.log.suffix(3000))")
        XCTAssertNotNil(vigil.terminate())
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    func testSecondInstanceJoinsAndLeavesUnderLoad() throws {
        let h = try Harness(partitions: 4)
        h.config.batchSize = 200
        let input = traffic(count: 12_000, seed: 26)
        try h.publish(Array(input[..<4000]))
        let first = try VigilProcess(h, name: "rebalance-a")
        XCTAssertTrue(h.waitForApplied(2000))
        let second = try VigilProcess(h, name: "rebalance-b")
        try h.publish(Array(input[4000..<8000]))
        // The group rebalances onto both (the mock takes about a session timeout; longer on a busy machine).
        let deadline = Date().addingTimeInterval(45)
        while !second.log.contains("partitions assigned"), Date() < deadline { Thread.sleep(forTimeInterval: 0.2) }
        XCTAssertTrue(second.log.contains("partitions assigned"), "second instance got partitions: \(second.log.suffix(2000))")
        XCTAssertTrue(h.waitForApplied(6000), "no progress with two instances")
        XCTAssertNotNil(second.terminate(), "second instance leaves")
        try h.publish(Array(input[8000...]))
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(first.log.suffix(3000))")
        XCTAssertNotNil(first.terminate())
        // Handover is clean: together the two instances emitted each transaction once.
        try checkOutputs(h)
    }
}
