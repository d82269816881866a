import XCTest

@testable import VigilService

/// `TransactionCadence` transition by transition: at most one transaction begins per interval, a batch is held at most
/// one interval, a full group or a flush begins at once, light traffic is never held.
final class TransactionCadenceTests: XCTestCase {
    let ms: UInt64 = 1_000_000

    func testTheFirstBatchBeginsAtOnce() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        XCTAssertEqual(cadence.arrived(now: 5 * ms), .begin)
        XCTAssertEqual(cadence.held, 0)
        XCTAssertEqual(cadence.lastBegan, 5 * ms)
    }

    func testABatchWithinTheIntervalIsHeldAndAsksToBeWokenWhenItIsDue() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = cadence.arrived(now: 100 * ms)
        XCTAssertEqual(cadence.arrived(now: 103 * ms), .hold(wakeAt: 120 * ms))
        XCTAssertEqual(cadence.held, 1)
        XCTAssertEqual(cadence.arrived(now: 110 * ms), .hold(wakeAt: nil), "the group's wake-up is already asked for")
        XCTAssertEqual(cadence.held, 2)
    }

    func testTheWakeUpBeginsTheHeldGroup() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = cadence.arrived(now: 100 * ms)
        _ = cadence.arrived(now: 103 * ms)
        _ = cadence.arrived(now: 110 * ms)
        XCTAssertEqual(cadence.wake(now: 120 * ms), .begin)
        XCTAssertEqual(cadence.held, 0)
        XCTAssertEqual(cadence.lastBegan, 120 * ms)
        XCTAssertEqual(cadence.arrived(now: 121 * ms), .hold(wakeAt: 140 * ms), "the next group waits for the next slot")
    }

    func testAnEarlyWakeUpAsksAgainAndALateOneForAGroupThatBeganDoesNothing() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = cadence.arrived(now: 100 * ms)
        _ = cadence.arrived(now: 101 * ms)
        XCTAssertEqual(cadence.wake(now: 119 * ms), .hold(wakeAt: 120 * ms))
        XCTAssertEqual(cadence.held, 1, "still held: nothing is lost to an early timer")
        XCTAssertEqual(cadence.flush(now: 119 * ms), .begin)
        XCTAssertEqual(cadence.wake(now: 120 * ms), .idle, "the group already began")
    }

    func testAStaleWakeUpDoesNotBeginTheNextGroupEarly() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = cadence.arrived(now: 100 * ms)
        _ = cadence.arrived(now: 101 * ms)  // wake-up asked for 120
        XCTAssertEqual(cadence.flush(now: 105 * ms), .begin)
        XCTAssertEqual(cadence.arrived(now: 106 * ms), .hold(wakeAt: 125 * ms))
        XCTAssertEqual(cadence.wake(now: 120 * ms), .hold(wakeAt: 125 * ms), "the old wake-up finds the new group not due")
        XCTAssertEqual(cadence.wake(now: 125 * ms), .begin)
    }

    func testAFullGroupBeginsAtOnce() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 3)
        _ = cadence.arrived(now: 100 * ms)
        XCTAssertEqual(cadence.arrived(now: 101 * ms), .hold(wakeAt: 120 * ms))
        XCTAssertEqual(cadence.arrived(now: 102 * ms), .hold(wakeAt: nil))
        XCTAssertEqual(cadence.arrived(now: 103 * ms), .begin, "the third held batch fills the group")
        XCTAssertEqual(cadence.held, 0)
        XCTAssertEqual(cadence.lastBegan, 103 * ms)
    }

    func testABatchLaterThanTheIntervalBeginsAtOnce() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = cadence.arrived(now: 100 * ms)
        XCTAssertEqual(cadence.arrived(now: 120 * ms), .begin, "exactly one interval later")
        XCTAssertEqual(cadence.arrived(now: 500 * ms), .begin)
    }

    func testFlushBeginsWhatIsHeldAndNothingWhenNothingIs() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        XCTAssertEqual(cadence.flush(now: 1 * ms), .idle)
        XCTAssertNil(cadence.lastBegan, "an idle flush begins nothing")
        _ = cadence.arrived(now: 100 * ms)
        XCTAssertEqual(cadence.flush(now: 101 * ms), .idle)
        _ = cadence.arrived(now: 102 * ms)
        XCTAssertEqual(cadence.flush(now: 103 * ms), .begin)
        XCTAssertEqual(cadence.held, 0)
        XCTAssertEqual(cadence.lastBegan, 103 * ms)
    }

    func testIntervalZeroBeginsEveryBatchAtOnce() {
        var cadence = TransactionCadence(intervalMs: 0, maxBatches: 8)
        for t in [1, 1, 2, 2, 2] { XCTAssertEqual(cadence.arrived(now: UInt64(t) * ms), .begin) }
    }

    func testOneBatchPerTransactionBeginsEveryBatchAtOnce() {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 1)
        for t in [100, 101, 102] { XCTAssertEqual(cadence.arrived(now: UInt64(t) * ms), .begin) }
    }

    func testUnderSteadyLoadTransactionsBeginOncePerIntervalAndNoBatchWaitsLonger() {
        // A batch every 3 ms for a second, wake-ups delivered on time: about 50 transactions instead of 334, and no
        // batch held longer than the interval.
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        var wakeAt: UInt64?
        var heldSince: [UInt64] = []
        var begun = 0
        var longestWait: UInt64 = 0
        func begin(_ now: UInt64) {
            begun += 1
            longestWait = max(longestWait, heldSince.map { now - $0 }.max() ?? 0)
            heldSince = []
            wakeAt = nil
        }
        for now in stride(from: UInt64(0), to: 1000 * ms, by: Int(ms)) {
            if let due = wakeAt, now >= due {
                wakeAt = nil
                switch cadence.wake(now: now) {
                case .begin: begin(now)
                case .hold(let at): wakeAt = at
                case .idle: break
                }
            }
            guard now % (3 * ms) == 0 else { continue }
            heldSince.append(now)
            switch cadence.arrived(now: now) {
            case .begin: begin(now)
            case .hold(let at): if let at { wakeAt = at }
            case .idle: XCTFail("an arrival is never idle")
            }
        }
        XCTAssertEqual(begun, 50)
        XCTAssertLessThanOrEqual(longestWait, 20 * ms)
    }
}
