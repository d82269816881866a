import Foundation
import Kafka
import Redis
import VigilCore
import VigilService
import XCTest

/// Transactions dated far in the future go to the DLQ and leave the partition's watermark where it was, also in
/// Redis across a restart: one bad date must not send every later transaction of its partition to `fraud.late`
/// unscored (docs/contract.md, event time).
final class FutureEventTimeTests: XCTestCase {
    func message(_ id: String, card: String, at t: Int64) -> (key: [UInt8]?, value: [UInt8]) {
        transactionMessage(id, card: card, at: t)
    }

    func testFutureDatedTransactionsGoToTheDLQAndDoNotStopScoring() throws {
        let h = try Harness(partitions: 1)
        let minute: Int64 = 60_000
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let t = now - 30 * minute  // normal traffic: shortly before the wall clock
        let yearAhead = now + 365 * 86_400_000
        try h.publish([
            message("a1", card: "card-f1", at: t),
            message("a2", card: "card-f2", at: t + minute),
            message("future-year", card: "card-f1", at: yearAhead),
            message("future-max", card: "card-f2", at: .max),
            message("b1", card: "card-f1", at: t + 2 * minute),
            message("b2", card: "card-f2", at: t + 3 * minute),
        ])
        let first = try h.makePipeline()
        XCTAssertTrue(first.waitForProcessed(6))
        first.stop()
        XCTAssertEqual(first.pipeline.stats.snapshot.rejected, 2)
        XCTAssertEqual(first.pipeline.stats.snapshot.late, 0)

        // The stored watermark is the highest normal event time, so after a restart scoring goes on.
        let redis = try RedisConnection(host: h.redis.host, port: h.redis.port)
        let stored = try redis.send("HGET", RedisKeys(prefix: h.config.redisPrefix).partition(topic: h.config.topics.transactions, partition: 0), "max_event_ms").int
        XCTAssertEqual(stored, t + 3 * minute)
        try h.publish([
            message("c1", card: "card-f1", at: t + 4 * minute),
            message("c2", card: "card-f2", at: t + 5 * minute),
            message("c3", card: "card-f3", at: t + 6 * minute),
        ])
        let second = try h.makePipeline()
        XCTAssertTrue(second.waitForProcessed(3))
        second.stop()
        XCTAssertEqual(second.pipeline.stats.snapshot.late, 0)
        XCTAssertEqual(second.pipeline.stats.snapshot.decided, 3)

        let dlq = try h.readAll(h.config.topics.dlq)
        XCTAssertEqual(dlq.map { json($0.value)["transaction_id"] as? String }, ["future-year", "future-max"])
        for m in dlq {
            XCTAssertEqual(header(m, "vigil.error"), "out_of_range:event_time_ms")
            XCTAssertNotNil(header(m, "vigil.source"))
        }
        let decided = try h.readAll(h.config.topics.decisions).map { json($0.value)["transaction_id"] as? String }
        XCTAssertEqual(decided, ["a1", "a2", "b1", "b2", "c1", "c2", "c3"])
        XCTAssertEqual(try h.readAll(h.config.topics.late).count, 0)
        try checkOutputs(h)
    }
}
