import Kafka
import XCTest

@testable import VigilService

final class DeliveryTrackerTests: XCTestCase {
    let tooLarge = KafkaError.Code.messageSizeTooLarge
    let timedOut = KafkaError.Code.messageTimedOut

    func testEverythingDeliveredIsDone() {
        var t = DeliveryTracker(isCopy: [false, false, true])
        XCTAssertEqual(t.pending, [0, 1, 2])
        XCTAssertEqual(t.delivered(failed: []), .done)
        XCTAssertEqual(t.pending, [])
    }

    func testOnlyWhatFailedIsProducedAgain() {
        var t = DeliveryTracker(isCopy: [false, false, false, true])
        XCTAssertEqual(t.delivered(failed: [(2, timedOut), (0, timedOut)]), .again(backOff: true))
        XCTAssertEqual(t.pending, [0, 2])
        XCTAssertEqual(t.delivered(failed: []), .done)
        XCTAssertTrue(t.degraded.isEmpty)
    }

    func testARefusedCopyIsDegradedOnceThenARefusalOfTheDegradedCopyFails() {
        var t = DeliveryTracker(isCopy: [false, true])
        XCTAssertEqual(t.delivered(failed: [(1, tooLarge)]), .again(backOff: false))
        XCTAssertEqual(t.degraded, [1])
        XCTAssertEqual(t.pending, [1])
        XCTAssertEqual(t.delivered(failed: [(1, tooLarge)]), .refused(entry: 1, code: tooLarge))
    }

    func testARefusedOwnOutputIsTriedAgainThenFails() {
        var t = DeliveryTracker(isCopy: [false, true])
        for _ in 1..<DeliveryTracker.maxRefusals {
            XCTAssertEqual(t.delivered(failed: [(0, tooLarge)]), .again(backOff: false))
            XCTAssertTrue(t.degraded.isEmpty, "Vigil's own outputs are never degraded")
        }
        XCTAssertEqual(t.delivered(failed: [(0, tooLarge)]), .refused(entry: 0, code: tooLarge))
    }

    func testEveryRefusalCodeDegradesACopy() {
        for code in [KafkaError.Code.messageSizeTooLarge, KafkaError.Code.recordListTooLarge, KafkaError.Code.invalidRecord] {
            var t = DeliveryTracker(isCopy: [true])
            XCTAssertEqual(t.delivered(failed: [(0, code)]), .again(backOff: false))
            XCTAssertEqual(t.degraded, [0])
        }
    }

    func testRefusalAtProduceDegradesCopiesOnly() {
        var t = DeliveryTracker(isCopy: [false, true])
        XCTAssertFalse(t.refusedAtProduce(0, code: tooLarge))
        XCTAssertTrue(t.refusedAtProduce(1, code: tooLarge))
        XCTAssertFalse(t.refusedAtProduce(1, code: tooLarge), "a degraded copy cannot be degraded further")
    }

    func testAnAbortMakesEverythingPendingAndKeepsDegradations() {
        var t = DeliveryTracker(isCopy: [false, true, false])
        let purged = KafkaError.Code.purgedInFlight
        XCTAssertEqual(t.aborted(failed: [(0, purged), (1, tooLarge), (2, purged)]), .again(backOff: false))
        XCTAssertEqual(t.pending, [0, 1, 2])
        XCTAssertEqual(t.degraded, [1])
        XCTAssertEqual(t.aborted(failed: [(0, timedOut)]), .again(backOff: true))
        XCTAssertEqual(t.aborted(failed: [(1, tooLarge)]), .refused(entry: 1, code: tooLarge))
    }

    func testDuplicateReportsOfOneEntryCountOnce() {
        var t = DeliveryTracker(isCopy: [true])
        XCTAssertEqual(t.delivered(failed: [(0, tooLarge), (0, tooLarge)]), .again(backOff: false))
        XCTAssertEqual(t.pending, [0])
    }
}
