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
        XCTAssertEqual(cadence.arrived(now: 106 * ms), .hold(wakeAt: nil), "the wake-up for 120 is still armed: no second one")
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

    func testBatchesQueuedBehindADueOneJoinItsTransaction() {
        // The previous transaction took longer than the interval; three batches queued up behind it meanwhile.
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = cadence.arrived(now: 100 * ms)
        XCTAssertEqual(cadence.arrived(now: 130 * ms, queuedBehind: 2), .hold(wakeAt: 150 * ms), "due, but two are behind it")
        XCTAssertEqual(cadence.arrived(now: 130 * ms, queuedBehind: 1), .hold(wakeAt: nil))
        XCTAssertEqual(cadence.arrived(now: 130 * ms, queuedBehind: 0), .begin, "the last of the queue begins the three")
        XCTAssertEqual(cadence.lastBegan, 130 * ms)
        // A full group begins whatever is queued behind it.
        var full = TransactionCadence(intervalMs: 20, maxBatches: 2)
        _ = full.arrived(now: 100 * ms)
        _ = full.arrived(now: 130 * ms, queuedBehind: 5)
        XCTAssertEqual(full.arrived(now: 130 * ms, queuedBehind: 4), .begin)
        // A wake-up that finds batches queued leaves the group to their arrival (and asks again, as a fallback).
        var woken = TransactionCadence(intervalMs: 20, maxBatches: 8)
        _ = woken.arrived(now: 100 * ms)
        _ = woken.arrived(now: 101 * ms)
        XCTAssertEqual(woken.wake(now: 120 * ms, queuedBehind: 1), .hold(wakeAt: 140 * ms))
        XCTAssertEqual(woken.arrived(now: 120 * ms, queuedBehind: 0), .begin)
    }

    /// A model of the emit stage: batches handed over every `everyMs`, each transaction taking `transactionMs` of
    /// the stage (batches queue behind it meanwhile), wake-ups delivered on time, every timer tracked (a timer is never
    /// cancelled: a stale one fires too).
    func simulate(everyMs: UInt64, transactionMs: UInt64, durationMs: UInt64 = 1000)
        -> (transactions: Int, longestHeldMs: UInt64, mostTimers: Int, batches: Int)
    {
        var cadence = TransactionCadence(intervalMs: 20, maxBatches: 8)
        var timers: [UInt64] = []
        var queue: [UInt64] = []  // handed over, not yet taken by the stage
        var heldSince: [UInt64] = []
        var busyUntil: UInt64 = 0
        var transactions = 0, mostTimers = 0, batches = 0
        var longest: UInt64 = 0
        func carry(_ action: TransactionCadence.Action, _ now: UInt64) {
            switch action {
            case .begin:
                transactions += 1
                longest = max(longest, heldSince.map { now - $0 }.max() ?? 0)
                heldSince = []
                busyUntil = now + transactionMs * ms
            case .hold(let at): if let at { timers.append(at) }
            case .idle: break
            }
            mostTimers = max(mostTimers, timers.count)
        }
        for now in stride(from: UInt64(0), to: durationMs * ms, by: Int(ms)) {
            if now % (everyMs * ms) == 0 {
                queue.append(now)
                batches += 1
            }
            guard now >= busyUntil else { continue }  // the stage is in a transaction
            while let handed = queue.first, now >= busyUntil {
                queue.removeFirst()
                heldSince.append(handed)
                carry(cadence.arrived(now: now, queuedBehind: queue.count), now)
            }
            guard now >= busyUntil else { continue }  // a wake-up waits for the stage too (a serial queue)
            let fired = timers.filter { $0 <= now }.count
            timers.removeAll { $0 <= now }
            for _ in 0..<fired { carry(cadence.wake(now: now, queuedBehind: queue.count), now) }
        }
        return (transactions, longest / ms, mostTimers, batches)
    }

    func testUnderSteadyLoadTransactionsBeginOncePerIntervalWithOneTimer() {
        // A batch every 3 ms for a second, transactions quick: about 50 instead of 334, and no batch held longer
        // than the interval.
        let quick = simulate(everyMs: 3, transactionMs: 0)
        XCTAssertEqual(quick.transactions, 50)
        XCTAssertLessThanOrEqual(quick.longestHeldMs, 20)
        XCTAssertEqual(quick.mostTimers, 1, "at most one wake-up outstanding")
        // Batches faster than the interval fills a group: groups begin by count, and stale wake-ups do not pile up.
        let busy = simulate(everyMs: 1, transactionMs: 0)
        XCTAssertEqual(busy.mostTimers, 1)
        XCTAssertLessThanOrEqual(busy.transactions, busy.batches / 8 + 1)
    }

    func testATransactionSlowerThanTheIntervalKeepsGroupingBatches() {
        // A batch every 5 ms, each transaction 25 ms (a broker a few milliseconds away): batches queue behind each
        // transaction and share the next one, instead of one batch per transaction.
        let slow = simulate(everyMs: 5, transactionMs: 25)
        XCTAssertGreaterThanOrEqual(Double(slow.batches) / Double(slow.transactions), 4.5)
        XCTAssertEqual(slow.mostTimers, 1)
    }
}
