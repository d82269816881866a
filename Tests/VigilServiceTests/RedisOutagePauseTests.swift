import Foundation
import Kafka
import VigilService
import XCTest

/// Partitions assigned while Redis is down are paused like the others and put back explicitly where processing
/// ends, so nothing polled during the outage is lost, whatever librdkafka does with a resumed partition.
final class RedisOutagePauseTests: XCTestCase {
    func testPartitionsAssignedWhileRedisIsDownArePausedAndNothingIsLost() throws {
        let h = try Harness(partitions: 3, persistentRedis: true)
        let input = traffic(count: 3000, seed: 96)
        try h.publish(input)
        h.redis.kill()
        let runner = try h.makePipeline()
        // Every partition is assigned while Redis is down: none can be claimed, all must be paused.
        let deadline = Date().addingTimeInterval(40)
        while runner.pipeline.stats.snapshot.pausedPartitions < Int(h.partitions), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        let paused = runner.pipeline.stats.snapshot
        XCTAssertEqual(paused.pausedReason, "redis unreachable")
        XCTAssertEqual(paused.pausedPartitions, Int(h.partitions), "every assigned partition is paused, claimed or not")
        Thread.sleep(forTimeInterval: 2)  // the outage loop keeps polling
        XCTAssertEqual(runner.pipeline.stats.snapshot.processed, 0)
        try h.redis.restart(keepData: true)
        XCTAssertTrue(runner.waitForProcessed(input.count, timeout: 60), "lost records: \(runner.pipeline.stats.snapshot.processed)")
        XCTAssertEqual(runner.pipeline.stats.snapshot.pausedPartitions, 0)
        runner.stop()
        try checkOutputs(h)
    }
}
