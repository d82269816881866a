import VigilCore
import XCTest
@testable import VigilTraining

final class PromotionGateTests: XCTestCase {
    func evaluation(_ version: String, pr: Double?) -> ModelEvaluation {
        var e = ModelEvaluation.evaluate(version: version, scores: [0.9, 0.1], labels: [1, 0], thresholds: .init(review: 0.5, block: 0.9))
        e.prAUC = pr
        return e
    }

    func testPromotesWhenBetterOrEqual() {
        let gate = PromotionGate(minPRAUCGain: 0)
        XCTAssertTrue(gate.decide(candidate: evaluation("new", pr: 0.62), current: evaluation("old", pr: 0.48)).promoted)
        XCTAssertTrue(gate.decide(candidate: evaluation("new", pr: 0.48), current: evaluation("old", pr: 0.48)).promoted)
        let first = gate.decide(candidate: evaluation("new", pr: 0.3), current: nil)
        XCTAssertTrue(first.promoted)
        XCTAssertTrue(first.reason.contains("no current model"))
    }

    func testKeepsCurrentWhenWorseThanMargin() {
        let decision = PromotionGate(minPRAUCGain: 0.02).decide(candidate: evaluation("new", pr: 0.49), current: evaluation("old", pr: 0.48))
        XCTAssertFalse(decision.promoted)
        XCTAssertTrue(decision.reason.contains("0.4900 vs current 0.4800"), decision.reason)
        XCTAssertTrue(decision.reason.contains("keeping the current model"))
        // A negative margin tolerates a small loss.
        XCTAssertTrue(PromotionGate(minPRAUCGain: -0.02).decide(candidate: evaluation("new", pr: 0.47), current: evaluation("old", pr: 0.48)).promoted)
        XCTAssertFalse(PromotionGate().decide(candidate: evaluation("new", pr: 0.47), current: evaluation("old", pr: 0.48)).promoted)
    }

    func testKeepsCurrentWithoutEvidence() {
        let gate = PromotionGate()
        XCTAssertFalse(gate.decide(candidate: evaluation("new", pr: nil), current: evaluation("old", pr: nil)).promoted)
        XCTAssertFalse(gate.decide(candidate: evaluation("new", pr: 0.9), current: evaluation("old", pr: 0.1), fitConverged: false).promoted)
    }
}

/// The operational conditions: alert budget (absolute and against the serving model), block precision, and which
/// condition decides when several fail.
final class PromotionGateConditionTests: XCTestCase {
    /// 100 transactions: the top `alerts` scores are reviewed or blocked; the top `blocks` of them blocked, of which
    /// `fraudBlocked` are fraud (the rest labelled legitimate); everything else is legitimate and scores low.
    func evaluation(_ version: String, pr: Double, alerts: Int, blocks: Int, fraudBlocked: Int) -> ModelEvaluation {
        var scores: [Double] = [], labels: [UInt8] = []
        for i in 0..<100 {
            if i < blocks {
                scores.append(0.95)
                labels.append(i < fraudBlocked ? 1 : 0)
            } else if i < alerts {
                scores.append(0.6)
                labels.append(0)
            } else {
                scores.append(0.01)
                labels.append(i == 99 && fraudBlocked == 0 ? 1 : 0)
            }
        }
        var e = ModelEvaluation.evaluate(version: version, scores: scores, labels: labels, thresholds: .init(review: 0.5, block: 0.9))
        e.prAUC = pr
        return e
    }

    let gate = PromotionGate(minPRAUCGain: 0, alertBudget: 0.05, maxAlertGrowth: 1.25, blockPrecision: 0.9)

    func testEveryConditionPassingPromotesAndReportsAllThree() {
        let decision = gate.decide(
            candidate: evaluation("new", pr: 0.6, alerts: 4, blocks: 2, fraudBlocked: 2),
            current: evaluation("old", pr: 0.5, alerts: 4, blocks: 2, fraudBlocked: 2))
        XCTAssertTrue(decision.promoted, decision.reason)
        XCTAssertNil(decision.decidedBy)
        XCTAssertEqual(decision.checks.map(\.condition), [.prAUC, .alertRate, .blockPrecision])
        XCTAssertTrue(decision.checks.allSatisfy(\.passed))
    }

    func testAnAlertRateOverTheAbsoluteBudgetKeepsTheServingModel() {
        // 6 % against a budget of 5 %, with a serving model that alerts as much (the relative bound allows 7.5 %).
        let decision = gate.decide(
            candidate: evaluation("new", pr: 0.9, alerts: 6, blocks: 2, fraudBlocked: 2),
            current: evaluation("old", pr: 0.5, alerts: 6, blocks: 2, fraudBlocked: 2))
        XCTAssertFalse(decision.promoted)
        XCTAssertEqual(decision.decidedBy, .alertRate)
        XCTAssertTrue(decision.reason.contains("alert rate 6.00 % over the budget 5.00 %"), decision.reason)
    }

    func testTriplingTheServingModelsAlertRateKeepsItEvenWithinTheAbsoluteBudget() {
        // The incident: 0.62 % -> 2.00 % under a 2 % budget. Here 1 % -> 3 % under 5 %: 1.25 x 1 % = 1.25 %.
        let decision = gate.decide(
            candidate: evaluation("new", pr: 0.9, alerts: 3, blocks: 1, fraudBlocked: 1),
            current: evaluation("old", pr: 0.5, alerts: 1, blocks: 1, fraudBlocked: 1))
        XCTAssertFalse(decision.promoted)
        XCTAssertEqual(decision.decidedBy, .alertRate)
        XCTAssertTrue(decision.reason.contains("over the budget 1.25 % (1.25x the current model's 1.00 %"), decision.reason)
        XCTAssertEqual(gate.budget(serving: evaluation("old", pr: 0.5, alerts: 1, blocks: 1, fraudBlocked: 1)), 0.0125, accuracy: 1e-12)
        // Without a relative bound the same candidate passes.
        var unbounded = gate
        unbounded.maxAlertGrowth = .infinity
        XCTAssertTrue(unbounded.decide(
            candidate: evaluation("new", pr: 0.9, alerts: 3, blocks: 1, fraudBlocked: 1),
            current: evaluation("old", pr: 0.5, alerts: 1, blocks: 1, fraudBlocked: 1)).promoted)
    }

    func testBudgetWithoutAServingModelOrWithOneThatNeverAlertsIsTheAbsoluteOne() {
        XCTAssertEqual(gate.budget(serving: nil), 0.05)
        XCTAssertEqual(gate.budget(serving: evaluation("old", pr: 0.5, alerts: 0, blocks: 0, fraudBlocked: 0)), 0.05)
        XCTAssertEqual(gate.budget(serving: evaluation("old", pr: 0.5, alerts: 10, blocks: 0, fraudBlocked: 0)), 0.05)
    }

    func testBlockPrecisionBelowTheTargetKeepsTheServingModel() {
        // 3 blocks, 2 of them fraud: 66.67 % against 90 %.
        let decision = gate.decide(
            candidate: evaluation("new", pr: 0.9, alerts: 4, blocks: 3, fraudBlocked: 2),
            current: evaluation("old", pr: 0.5, alerts: 4, blocks: 3, fraudBlocked: 3))
        XCTAssertFalse(decision.promoted)
        XCTAssertEqual(decision.decidedBy, .blockPrecision)
        XCTAssertTrue(decision.reason.contains("block precision 66.67 % (2 of 3 labelled blocks) below the target 90.00 %"), decision.reason)
    }

    func testACandidateThatBlocksNothingLabelledIsKept() {
        let decision = gate.decide(
            candidate: evaluation("new", pr: 0.9, alerts: 4, blocks: 0, fraudBlocked: 0),
            current: evaluation("old", pr: 0.5, alerts: 4, blocks: 2, fraudBlocked: 2))
        XCTAssertEqual(decision.decidedBy, .blockPrecision)
        XCTAssertTrue(decision.reason.contains("blocks no labelled transaction"), decision.reason)
        // With no precision target (0) blocking nothing is acceptable.
        var lenient = gate
        lenient.blockPrecision = 0
        XCTAssertTrue(lenient.decide(
            candidate: evaluation("new", pr: 0.9, alerts: 4, blocks: 0, fraudBlocked: 0),
            current: evaluation("old", pr: 0.5, alerts: 4, blocks: 2, fraudBlocked: 2)).promoted)
    }

    func testTheFirstFailingConditionDecidesAndEveryCheckIsReported() {
        // Worse PR AUC, over budget and imprecise: PR AUC decides; all three are reported as failed.
        let decision = gate.decide(
            candidate: evaluation("new", pr: 0.4, alerts: 10, blocks: 5, fraudBlocked: 1),
            current: evaluation("old", pr: 0.5, alerts: 4, blocks: 2, fraudBlocked: 2))
        XCTAssertEqual(decision.decidedBy, .prAUC)
        XCTAssertEqual(decision.checks.map(\.passed), [false, false, false])
        XCTAssertTrue(decision.reason.hasPrefix("kept by pr_auc: "), decision.reason)
        // Alert rate before block precision.
        let second = gate.decide(
            candidate: evaluation("new", pr: 0.6, alerts: 10, blocks: 5, fraudBlocked: 1),
            current: evaluation("old", pr: 0.5, alerts: 4, blocks: 2, fraudBlocked: 2))
        XCTAssertEqual(second.decidedBy, .alertRate)
        XCTAssertEqual(second.checks.map(\.passed), [true, false, false])
    }

    func testNoEvidenceIsItsOwnCondition() {
        var noFraud = evaluation("new", pr: 0.9, alerts: 4, blocks: 2, fraudBlocked: 2)
        noFraud.prAUC = nil
        XCTAssertEqual(gate.decide(candidate: noFraud, current: nil).decidedBy, .evidence)
        XCTAssertEqual(
            gate.decide(candidate: evaluation("new", pr: 0.9, alerts: 4, blocks: 2, fraudBlocked: 2), current: nil, fitConverged: false).decidedBy,
            .evidence)
    }
}
