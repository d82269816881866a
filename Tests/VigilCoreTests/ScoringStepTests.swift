import VigilCore
import XCTest

/// The step's future bound (docs/contract.md, event time): a transaction dated more than `maxFutureMs` after its
/// reference time goes to the DLQ before it can move the partition's clock or touch the card, so one bad date cannot
/// make the partition's later transactions late.
final class ScoringStepTests: XCTestCase {
    let step = ScoringStep(config: FeatureConfig())
    let model = try! CompiledModel(ModelFile(
        version: "test-1", features: [.init(name: "count_1h", weight: 1)], bias: -2,
        thresholds: .init(review: 0.5, block: 0.9)))

    /// A card with one accepted transaction at `t0`, on a partition whose clock stands at `t0`.
    func history() -> (state: CardState, clock: PartitionClock) {
        var state = CardState()
        var clock = PartitionClock()
        guard case .decided = step.process(
            tx("h-1", at: t0), state: &state, clock: &clock, model: model, nowMs: t0, referenceMs: t0)
        else {
            XCTFail("the history is not decided")
            return (state, clock)
        }
        return (state, clock)
    }

    /// The outcome of `e` after `history()`, with the state and clock it leaves.
    func outcome(_ e: Transaction, referenceMs: Int64, step: ScoringStep? = nil)
        -> (RecordOutcome, CardState, PartitionClock)
    {
        var (state, clock) = history()
        let outcome = (step ?? self.step).process(
            e, state: &state, clock: &clock, model: model, nowMs: referenceMs, referenceMs: referenceMs)
        return (outcome, state, clock)
    }

    func rejectCode(_ outcome: RecordOutcome) -> String? {
        if case .rejected(let reason) = outcome { return reason.code }
        return nil
    }

    func testTheDefaultBoundIsOneDay() {
        XCTAssertEqual(FeatureConfig().maxFutureMs, 86_400_000)
    }

    func testExactlyAtTheBoundIsAcceptedOneMillisecondBeyondIsRefused() {
        let reference = t0 + hour
        let bound = FeatureConfig().maxFutureMs
        guard case .decided(let d) = outcome(tx("at", at: reference + bound), referenceMs: reference).0 else {
            return XCTFail("a transaction exactly at the bound is scored")
        }
        XCTAssertEqual(d.transaction.eventTimeMs, reference + bound)
        XCTAssertEqual(
            rejectCode(outcome(tx("beyond", at: reference + bound + 1), referenceMs: reference).0),
            "out_of_range:event_time_ms")
    }

    func testInt64MaxIsRefused() {
        XCTAssertEqual(rejectCode(outcome(tx("max", at: .max), referenceMs: t0).0), "out_of_range:event_time_ms")
    }

    func testTheBoundNeverTraps() {
        let config = FeatureConfig()
        XCTAssertTrue(config.isTooFarAhead(.max, referenceMs: 0))
        XCTAssertTrue(config.isTooFarAhead(.max, referenceMs: .max - day - 1))
        // reference + bound beyond Int64.max: nothing can be further ahead.
        XCTAssertFalse(config.isTooFarAhead(.max, referenceMs: .max - day + 1))
        XCTAssertFalse(config.isTooFarAhead(.max, referenceMs: .max))
        XCTAssertFalse(FeatureConfig(maxFutureMs: .max).isTooFarAhead(.max, referenceMs: t0))
    }

    func testARefusedTransactionLeavesTheClockAndTheCardAsTheyWere() {
        let (state, clock) = history()
        for far in [t0 + 365 * day, Int64.max] {
            let (outcome, after, clockAfter) = outcome(tx("far", at: far), referenceMs: t0)
            XCTAssertEqual(rejectCode(outcome), "out_of_range:event_time_ms")
            XCTAssertEqual(clockAfter, clock, "the watermark did not move")
            XCTAssertEqual(clockAfter.maxEventMs, t0)
            XCTAssertEqual(after, state, "the card's state did not change")
        }
    }

    func testLaterTransactionsAreScoredNotLate() {
        var (state, clock) = history()
        for far in [t0 + 365 * day, Int64.max] {
            _ = step.process(tx("far", at: far), state: &state, clock: &clock, model: model, nowMs: t0, referenceMs: t0)
        }
        let later = step.process(
            tx("next", at: t0 + minute), state: &state, clock: &clock, model: model, nowMs: t0 + minute,
            referenceMs: t0 + minute)
        guard case .decided(let d) = later else { return XCTFail("the next transaction is scored, got \(later)") }
        XCTAssertEqual(d.features[.count1h], 1, "only the accepted history counts, not the refused ones")
        XCTAssertEqual(clock.maxEventMs, t0 + minute)
    }

    func testWithoutTheBoundOneFutureDateMakesEverythingLate() {
        // What the bound prevents: accepted, a date a year ahead moves the clock and the next payment is late.
        let open = ScoringStep(config: FeatureConfig(maxFutureMs: .max))
        var (state, clock) = history()
        _ = open.process(
            tx("far", at: t0 + 365 * day), state: &state, clock: &clock, model: model, nowMs: t0, referenceMs: t0)
        guard case .late = open.process(
            tx("next", at: t0 + minute), state: &state, clock: &clock, model: model, nowMs: t0, referenceMs: t0)
        else { return XCTFail("expected late") }
    }

    func testTheBoundIsCheckedBeforeLateness() {
        // A clock already far ahead (a watermark moved before the bound existed): a transaction both too far ahead
        // and late is refused as out of range, not sent to the late topic.
        var state = CardState()
        var clock = PartitionClock(maxEventMs: t0 + 730 * day)
        let outcome = step.process(
            tx("far", at: t0 + 365 * day), state: &state, clock: &clock, model: model, nowMs: t0, referenceMs: t0)
        XCTAssertEqual(rejectCode(outcome), "out_of_range:event_time_ms")
    }

    func testTheReferenceIsTheEarlierOfTheClockAndTheKafkaTimestamp() {
        XCTAssertEqual(ScoringStep.referenceMs(nowMs: t0 + hour, messageTimestampMs: t0), t0)
        XCTAssertEqual(ScoringStep.referenceMs(nowMs: t0, messageTimestampMs: t0 + hour), t0)
        XCTAssertEqual(ScoringStep.referenceMs(nowMs: t0, messageTimestampMs: nil), t0)
    }

    func testAReplayDaysLaterDecidesTheSame() {
        // Published at `ts`, decided a second later, replayed into the state ten days later: the same reference.
        let ts = t0
        let bound = FeatureConfig().maxFutureMs
        for nowMs in [ts + sec, ts + 10 * day] {
            let reference = ScoringStep.referenceMs(nowMs: nowMs, messageTimestampMs: ts)
            XCTAssertEqual(reference, ts)
            guard case .decided = outcome(tx("at", at: ts + bound), referenceMs: reference).0 else {
                return XCTFail("accepted at \(nowMs)")
            }
            XCTAssertEqual(rejectCode(outcome(tx("beyond", at: ts + bound + 1), referenceMs: reference).0),
                           "out_of_range:event_time_ms", "refused at \(nowMs)")
        }
    }
}
