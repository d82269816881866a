import XCTest
@testable import VigilTraining

final class RankingTests: XCTestCase {
    /// Scores 0.9+ 0.8+ 0.8- 0.3- 0.1-: the positive at 0.9 beats 3 negatives, the one at 0.8 beats 2 and ties
    /// 1 (half): 5.5 of 6 pairs.
    func testROCAUCWithTies() {
        let scores = [0.9, 0.8, 0.8, 0.3, 0.1]
        let labels = [true, true, false, false, false]
        XCTAssertEqual(Ranking.rocAUC(scores: scores, labels: labels)!, 5.5 / 6, accuracy: 1e-12)
        // Input order does not matter.
        XCTAssertEqual(Ranking.rocAUC(scores: scores.reversed(), labels: labels.reversed())!, 5.5 / 6, accuracy: 1e-12)
    }

    func testROCAUCExtremes() {
        XCTAssertEqual(Ranking.rocAUC(scores: [0.9, 0.8, 0.2, 0.1], labels: [true, true, false, false]), 1)
        XCTAssertEqual(Ranking.rocAUC(scores: [0.1, 0.2, 0.8, 0.9], labels: [true, true, false, false]), 0)
        XCTAssertEqual(Ranking.rocAUC(scores: [0.5, 0.5, 0.5], labels: [true, false, false]), 0.5)
        XCTAssertNil(Ranking.rocAUC(scores: [0.5, 0.4], labels: [false, false]))
        XCTAssertNil(Ranking.rocAUC(scores: [], labels: []))
    }

    /// 0.9+ 0.8-: ranks 1..4 of [0.1-, 0.4+, 0.4-, 0.9+] with the 0.4 tie at 2.5: positives' rank sum 2.5 + 4 = 6.5,
    /// U = 6.5 - 3 = 3.5 of 4.
    func testROCAUCByAverageRanks() {
        XCTAssertEqual(Ranking.rocAUC(scores: [0.1, 0.4, 0.4, 0.9], labels: [false, true, false, true])!, 3.5 / 4, accuracy: 1e-12)
    }

    /// Same scores: thresholds 0.9 (R 1/2, P 1) and 0.8 (both 0.8s enter together: R 1, P 2/3):
    /// AP = 0.5 * 1 + 0.5 * 2/3.
    func testAveragePrecisionWithTies() {
        let scores = [0.9, 0.8, 0.8, 0.3, 0.1]
        let labels = [true, true, false, false, false]
        XCTAssertEqual(Ranking.averagePrecision(scores: scores, labels: labels)!, 0.5 + 0.5 * 2 / 3, accuracy: 1e-12)
    }

    /// Ranking +, -, +, -, +: precision at each positive 1, 2/3, 3/5; AP = (1 + 2/3 + 3/5) / 3.
    func testAveragePrecisionHandComputed() {
        let scores = [0.9, 0.8, 0.7, 0.6, 0.5]
        let labels = [true, false, true, false, true]
        XCTAssertEqual(Ranking.averagePrecision(scores: scores, labels: labels)!, (1 + 2.0 / 3 + 3.0 / 5) / 3, accuracy: 1e-12)
        XCTAssertEqual(Ranking.averagePrecision(scores: [0.9, 0.1], labels: [true, false]), 1)
        // All tied: one threshold, precision = base rate.
        XCTAssertEqual(Ranking.averagePrecision(scores: [0.5, 0.5, 0.5, 0.5], labels: [true, false, false, false])!, 0.25, accuracy: 1e-12)
        XCTAssertNil(Ranking.averagePrecision(scores: [0.5], labels: [false]))
    }

    /// Flagged at >= threshold; precision and recall over labelled rows, rate over every row.
    func testOperatingPoint() {
        let u = ExampleSlice.unlabelled
        let point = OperatingPoint(threshold: 0.5, scores: [0.9, 0.7, 0.5, 0.6, 0.2, 0.1], labels: [1, 0, 1, u, 1, 0])
        XCTAssertEqual(point.flaggedExamples, 3)
        XCTAssertEqual(point.truePositives, 2)
        XCTAssertEqual(point.precision!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(point.recall!, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(point.rate, 4.0 / 6, accuracy: 1e-12)
        let none = OperatingPoint(threshold: 0.95, scores: [0.9], labels: [0])
        XCTAssertNil(none.precision)
        XCTAssertNil(none.recall)
    }
}
