import Kafka
import XCTest

@testable import VigilService

/// `TransactionDeliveries`: the delivery failures of one transaction carrying several batches reach the tracker of
/// the batch whose message failed, and an abort makes every batch's outputs pending again.
final class TransactionDeliveriesTests: XCTestCase {
    let tooLarge = KafkaError.Code.messageSizeTooLarge
    let timedOut = Int32(-192)  // _MSG_TIMED_OUT: not a refusal, backs off

    func testEachBatchHasItsOwnRangeOfTags() {
        let d = TransactionDeliveries(isCopy: [[false, false, true], [false], [], [true, false]])
        XCTAssertEqual(d.bases, [0, 3, 4, 4])
        XCTAssertEqual(d.trackers.map(\.pending), [[0, 1, 2], [0], [], [0, 1]])
    }

    func testAnAbortMakesEveryBatchPendingAgainEvenThoseWithoutFailures() {
        var d = TransactionDeliveries(isCopy: [[false, false], [false, false, false]])
        for i in d.trackers.indices { _ = d.trackers[i].delivered(failed: []) }  // as if all were out
        XCTAssertEqual(d.trackers.map(\.pending), [[], []])
        XCTAssertNil(d.aborted(failed: []))
        XCTAssertEqual(d.trackers.map(\.pending), [[0, 1], [0, 1, 2]])
    }

    func testAFailureIsJudgedByTheTrackerOfItsBatch() {
        // Tag 4 is the second batch's entry 2 (a copy): degraded there, and nowhere else.
        var d = TransactionDeliveries(isCopy: [[false, true], [false, false, true]])
        XCTAssertNil(d.aborted(failed: [(tag: 4, code: tooLarge), (tag: 0, code: timedOut)]))
        XCTAssertEqual(d.trackers[0].degraded, [])
        XCTAssertEqual(d.trackers[1].degraded, [2])
        XCTAssertEqual(d.degradedCount, 1)
        // The first batch's copy (tag 1) refused: degraded in the first batch only.
        XCTAssertNil(d.aborted(failed: [(tag: 1, code: tooLarge)]))
        XCTAssertEqual(d.trackers[0].degraded, [1])
        XCTAssertEqual(d.trackers[1].degraded, [2])
    }

    func testARefusalNamesTheBatchAndItsEntry() {
        var d = TransactionDeliveries(isCopy: [[false], [false, true]])
        // The second batch's copy (tag 2) refused twice: degraded, then refused even degraded.
        XCTAssertNil(d.aborted(failed: [(tag: 2, code: tooLarge)]))
        let refusal = d.aborted(failed: [(tag: 2, code: tooLarge)])
        XCTAssertEqual(refusal?.batch, 1)
        XCTAssertEqual(refusal?.entry, 1)
        XCTAssertEqual(refusal?.code, tooLarge)
    }

    func testVigilsOwnOutputIsRefusedAfterItsTrackersLimitNotEarlier() {
        var d = TransactionDeliveries(isCopy: [[false, false], [false]])
        for round in 1..<DeliveryTracker.maxRefusals {
            XCTAssertNil(d.aborted(failed: [(tag: 2, code: tooLarge)]), "round \(round)")
        }
        let refusal = d.aborted(failed: [(tag: 2, code: tooLarge)])
        XCTAssertEqual(refusal?.batch, 1)
        XCTAssertEqual(refusal?.entry, 0)
    }
}
