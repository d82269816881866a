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
