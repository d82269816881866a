import XCTest
@testable import VigilTraining

final class ThresholdSelectionTests: XCTestCase {
    /// 10 transactions, budget 0.3: at most 3 flagged. Block precision 1.0: the lowest threshold where every
    /// flagged example is fraud.
    func testReviewFitsBudgetAndBlockMeetsPrecision() {
        let scores = [0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
        let labels: [UInt8] = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
        let choice = ThresholdSelection.choose(scores: scores, labels: labels, blockPrecision: 1.0, alertBudget: 0.3)
        XCTAssertEqual(choice.review, 0.8)
        XCTAssertEqual(choice.block, 0.9)
        XCTAssertTrue(choice.notes.isEmpty)
        // Precision 0.75 is reached again at 0.7 (3 of 4), which is lower: more fraud blocked, but the block
        // threshold may not undercut the review threshold of the budget.
        let looser = ThresholdSelection.choose(scores: scores, labels: labels, blockPrecision: 0.75, alertBudget: 0.3)
        XCTAssertEqual(looser.review, 0.8)
        XCTAssertEqual(looser.block, 0.8)
        XCTAssertEqual(looser.notes.count, 1)
    }

    /// Tied scores are flagged together, so a tie that would overrun the budget stays out.
    func testTiesAtTheBudgetEdgeStayOut() {
        let scores = [0.9, 0.8, 0.8, 0.8, 0.1]
        let labels: [UInt8] = [1, 0, 0, 0, 0]
        let choice = ThresholdSelection.choose(scores: scores, labels: labels, blockPrecision: 0.9, alertBudget: 0.6)
        XCTAssertEqual(choice.review, 0.9)  // 0.8 would flag 4 of 5 > 3
    }

    /// Unreachable precision turns blocking off (highest threshold below 1) and says so; unlabelled rows count for
    /// the budget but not for precision.
    func testUnreachableBlockPrecision() {
        let u = ExampleSlice.unlabelled
        let choice = ThresholdSelection.choose(scores: [0.9, 0.8, 0.7, 0.6], labels: [0, u, 1, 0], blockPrecision: 0.9, alertBudget: 0.5)
        XCTAssertEqual(choice.review, 0.8)
        XCTAssertEqual(choice.block, ThresholdSelection.highest)
        XCTAssertLessThan(choice.block, 1)
        XCTAssertEqual(choice.notes.count, 1)
    }
}
