import Foundation
import Redis
@testable import VigilService
import XCTest

/// What the probes say, from values only, and how Redis's answers are read.
final class ProbeReportTests: XCTestCase {
    let t0 = ContinuousClock.now

    func inputs(_ change: (inout ProbeReport.Inputs) -> Void = { _ in }) -> ProbeReport.Inputs {
        var stats = PipelineStats.Snapshot()
        stats.assignedPartitions = 3
        var i = ProbeReport.Inputs(
            stats: stats, lag: 0, maxLag: 100, redis: .answering, broker: .reachable,
            progress: PipelineProgress(at: t0), stallBound: .seconds(10), stopping: false, now: t0 + .seconds(1))
        change(&i)
        return i
    }

    func testAHealthyIdleInstanceIsLiveAndReady() {
        let report = ProbeReport.make(inputs())
        XCTAssertNil(report.stall)
        XCTAssertEqual(report.notReady, [])
        XCTAssertEqual(report.secondsSinceProgress, 1, accuracy: 0.001)
    }

    func testNoProgressPastTheBoundFailsLivenessAndReadiness() {
        let report = ProbeReport.make(inputs { $0.now = self.t0 + .seconds(11) })
        XCTAssertEqual(report.stall, "pipeline stalled: no progress for 11 s (limit 10 s; the last: started)")
        XCTAssertEqual(report.notReady.map(\.label), ["pipeline_stalled"])
        var progress = PipelineProgress(at: t0)
        progress.note(.waitingForRedis, at: t0 + .seconds(10))
        XCTAssertNil(ProbeReport.make(inputs { $0.progress = progress; $0.now = self.t0 + .seconds(11) }).stall)
    }

    func testEachCauseHasItsLineAndLabel() {
        let report = ProbeReport.make(inputs {
            $0.stats.assignedPartitions = 0
            $0.stats.pausedReason = "redis out of memory"
            $0.stats.pausedCondition = .outOfMemory("OOM command not allowed when used memory > 'maxmemory'.")
            $0.redis = .outOfMemory("OOM command not allowed when used memory > 'maxmemory'.")
            $0.broker = .unreachable("Local: All broker connections are down")
            $0.lag = 101
            $0.stopping = true
        })
        XCTAssertEqual(report.notReady.map(\.label), [
            "shutting_down", "redis_out_of_memory", "broker_unreachable", "no_partitions", "behind",
        ], "the watch's Redis line is left out when the pause already names the same cause")
        XCTAssertEqual(report.notReady[1].text,
                       "consumption paused: redis out of memory (OOM command not allowed when used memory > 'maxmemory'.)")
        XCTAssertEqual(report.notReady[2].text, "broker unreachable: Local: All broker connections are down")
        XCTAssertTrue(Set(report.notReady.map(\.label)).isSubset(of: ProbeReport.labels))
    }

    func testAFailingBatchIsNotReadyUntilOneIsStored() {
        var progress = PipelineProgress(at: t0)
        progress.failed("output refused: topic too small", at: t0)
        XCTAssertEqual(ProbeReport.make(inputs { $0.progress = progress }).notReady.map(\.label), ["batches_failing"])
        progress.note(.stored, at: t0)
        XCTAssertEqual(ProbeReport.make(inputs { $0.progress = progress }).notReady, [])
    }

    func testRedisAnswersAreReadByTheirCode() {
        XCTAssertEqual(RedisCondition.of(errorReply: "OOM command not allowed when used memory > 'maxmemory'.").cause, "redis out of memory")
        XCTAssertEqual(RedisCondition.of(errorReply: "NOAUTH Authentication required.").cause, "redis authentication failed")
        XCTAssertEqual(RedisCondition.of(errorReply: "WRONGPASS invalid username-password pair").cause, "redis authentication failed")
        XCTAssertEqual(RedisCondition.of(errorReply: "LOADING Redis is loading the dataset in memory").label, "redis_loading")
        XCTAssertEqual(RedisCondition.of(errorReply: "READONLY You can't write against a read only replica.").label, "redis_read_only")
        XCTAssertEqual(RedisCondition.of(errorReply: "BUSYKEY Target key name already exists.").label, "redis_refused")
        // As the state store reports them.
        let store = StateStoreError.unexpectedReply(#"batch script: error("OOM command not allowed when used memory > 'maxmemory'.")"#)
        XCTAssertEqual(RedisCondition.of(store), .outOfMemory("OOM command not allowed when used memory > 'maxmemory'."))
        let script = StateStoreError.redis(RedisError(kind: .script, message: "redis at h:1 rejected script abc: NOAUTH Authentication required."))
        XCTAssertEqual(RedisCondition.of(script), .authenticationFailed("NOAUTH Authentication required."))
        XCTAssertEqual(RedisCondition.of(StateStoreError.redis(RedisError(kind: .timeout, message: "h:1 timed out")))?.label, "redis_not_answering")
        XCTAssertEqual(RedisCondition.of(StateStoreError.redis(RedisError(kind: .connect, message: "refused")))?.cause, "redis unreachable")
        XCTAssertNil(RedisCondition.of(StateStoreError.unexpectedReply("MGET of 3 keys: integer(1)")))
        XCTAssertNil(RedisCondition.of(PipelineError.delivery("x")))
    }

    func testStallTimeoutIsValidated() {
        XCTAssertEqual(VigilConfig().stallTimeoutMs, 120_000)
        for value in [999, 3_600_001, -1] {
            var c = VigilConfig()
            c.stallTimeoutMs = value
            XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("stall timeout must be 1000-3600000 ms"), "\($0)") }
        }
        var c = VigilConfig()
        c.stallTimeoutMs = 1000
        XCTAssertNoThrow(try c.validate())
    }
}
