import Foundation
import Kafka
import VigilCore
import VigilService
import XCTest

/// Late and out-of-order transactions around the bounds, across a restart (the watermark lives in Redis).
final class LatenessTests: XCTestCase {
    func message(_ id: String, card: String = "card-l1", at t: Int64) -> (key: [UInt8]?, value: [UInt8]) {
        transactionMessage(id, card: card, at: t)
    }

    func testLatenessBoundsHoldAcrossARestart() throws {
        let h = try Harness(partitions: 1)
        let t: Int64 = 1_764_000_000_000
        let minute: Int64 = 60_000
        let limit = t + 120 * minute - 5 * minute - 60 * minute  // watermark minus lateness after "b"
        try h.publish([
            message("a", at: t),
            message("b", at: t + 120 * minute),  // watermark t+115m, late below t+55m
            message("c", at: limit - 1),  // late by 1 ms
            message("d", at: limit),  // exactly at the bound: admitted
            message("e", at: t + 119 * minute),  // out of order, within bounds
        ])
        let first = try h.makePipeline()
        XCTAssertTrue(first.waitForProcessed(5))
        first.stop()
        XCTAssertEqual(first.pipeline.stats.snapshot.late, 1)
        // After a restart the watermark is the same: what was late stays late.
        try h.publish([
            message("f", at: limit - 1),
            message("g", at: limit),
            message("h", card: "card-l2", at: limit - 30 * minute),  // another card, same partition clock
        ])
        let second = try h.makePipeline()
        XCTAssertTrue(second.waitForProcessed(3))
        second.stop()
        XCTAssertEqual(second.pipeline.stats.snapshot.late, 2)
        let late = try h.readAll(h.config.topics.late)
        XCTAssertEqual(late.map { json($0.value)["transaction_id"] as? String }, ["c", "f", "h"])
        XCTAssertEqual(header(late[0], "vigil.watermark_ms"), String(t + 115 * minute))
        XCTAssertEqual(header(late[0], "vigil.behind_watermark_ms"), String(t + 115 * minute - (limit - 1)))
        try checkOutputs(h)
    }
}
