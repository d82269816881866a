import VigilCore
import VigilTraffic
import XCTest

/// Detection against ground truth: hand-built truth and outcomes with known answers.
final class DetectionTallyTests: XCTestCase {
    typealias Row = DetectionReport.Row

    func row(_ report: DetectionReport, _ pattern: FraudPattern) -> Row {
        report.patterns.first { $0.pattern == pattern }!.row
    }

    /// Ten card-testing frauds: 3 reviewed, 5 blocked, 1 approved, 1 late. 990 genuine: 2 reviewed, 1 blocked,
    /// 985 approved, 1 dead-lettered, 1 never read back.
    func knownTally() -> DetectionTally {
        var tally = DetectionTally()
        let fraud: [TransactionOutcome] = [.decided(.review), .decided(.review), .decided(.review)]
            + Array(repeating: .decided(.block), count: 5) + [.decided(.approve), .late]
        for (i, outcome) in fraud.enumerated() {
            tally.expect(transactionId: "f\(i)", pattern: .cardTesting)
            tally.record(outcome, transactionId: "f\(i)")
        }
        let genuine: [TransactionOutcome] = [.decided(.review), .decided(.review), .decided(.block), .deadLettered]
            + Array(repeating: .decided(.approve), count: 985)
        for (i, outcome) in genuine.enumerated() {
            tally.expect(transactionId: "g\(i)", pattern: nil)
            tally.record(outcome, transactionId: "g\(i)")
        }
        tally.expect(transactionId: "g-unread", pattern: nil)
        return tally
    }

    func testCountsPerPatternAndRecallOfTheDecidedFrauds() {
        let report = knownTally().report
        let testing = row(report, .cardTesting)
        XCTAssertEqual(testing, Row(approved: 1, reviewed: 3, blocked: 5, late: 1))
        XCTAssertEqual(testing.transactions, 10)
        XCTAssertEqual(testing.alerted, 8)
        XCTAssertEqual(testing.undecided, 1)
        // The late fraud is not a miss: recall is 8 of the 9 decided.
        XCTAssertEqual(testing.alertShare!, 8.0 / 9.0, accuracy: 1e-12)
        XCTAssertEqual(report.fraud, testing)
        XCTAssertEqual(report.genuine, Row(approved: 985, reviewed: 2, blocked: 1, deadLettered: 1, notReadBack: 1))
        XCTAssertEqual(report.unmatched, Row())
    }

    func testFalseAlertsPerThousandDecidedAndPerThousandGenuine() {
        let report = knownTally().report
        // 3 false alerts; 9 + 988 decided in all; 988 genuine decided.
        XCTAssertEqual(report.falseAlertsPerThousandDecided!, 3000.0 / 997.0, accuracy: 1e-9)
        XCTAssertEqual(report.falseAlertsPerThousandGenuine!, 3000.0 / 988.0, accuracy: 1e-9)
    }

    func testEveryPatternHasARowAndOneWithNoFraudHasNoRecall() {
        let report = knownTally().report
        XCTAssertEqual(report.patterns.map(\.pattern), FraudPattern.allCases)
        for pattern in FraudPattern.allCases where pattern != .cardTesting {
            XCTAssertEqual(row(report, pattern), Row(), "\(pattern)")
            XCTAssertNil(row(report, pattern).alertShare, "\(pattern)")
        }
    }

    func testNoAlertsMeansZeroFalseAlertsAndZeroRecall() {
        var tally = DetectionTally()
        tally.expect(transactionId: "f", pattern: .impossibleTravel)
        tally.record(.decided(.approve), transactionId: "f")
        for i in 0..<4 {
            tally.expect(transactionId: "g\(i)", pattern: nil)
            tally.record(.decided(.approve), transactionId: "g\(i)")
        }
        let report = tally.report
        XCTAssertEqual(row(report, .impossibleTravel).alertShare, 0)
        XCTAssertEqual(report.falseAlertsPerThousandDecided, 0)
        XCTAssertEqual(report.falseAlertsPerThousandGenuine, 0)
    }

    func testNothingDecidedGivesNoRatesAndCountsEveryTransactionAsNotReadBack() {
        var tally = DetectionTally()
        tally.expect(transactionId: "f", pattern: .accountTakeover)
        tally.expect(transactionId: "g", pattern: nil)
        let report = tally.report
        XCTAssertEqual(row(report, .accountTakeover), Row(notReadBack: 1))
        XCTAssertNil(row(report, .accountTakeover).alertShare)
        XCTAssertEqual(report.genuine, Row(notReadBack: 1))
        XCTAssertNil(report.falseAlertsPerThousandDecided)
        XCTAssertNil(report.falseAlertsPerThousandGenuine)
        XCTAssertEqual(DetectionTally().report.all, Row())
    }

    func testAnOutcomeBeforeItsTruthIsJoinedAndOneWithNoTruthIsUnmatched() {
        var tally = DetectionTally()
        tally.record(.decided(.block), transactionId: "early")
        tally.record(.decided(.approve), transactionId: "unknown")
        XCTAssertEqual(tally.report.unmatched, Row(approved: 1, blocked: 1))
        tally.expect(transactionId: "early", pattern: .highValueSpree)
        let report = tally.report
        XCTAssertEqual(row(report, .highValueSpree), Row(blocked: 1))
        XCTAssertEqual(report.unmatched, Row(approved: 1))
        XCTAssertEqual(report.all.transactions, 1)
    }

    func testASecondOutcomeForATransactionIsUnmatchedNotCountedTwice() {
        var tally = DetectionTally()
        tally.expect(transactionId: "t", pattern: nil)
        tally.record(.decided(.review), transactionId: "t")
        tally.record(.decided(.review), transactionId: "t")
        let report = tally.report
        XCTAssertEqual(report.genuine, Row(reviewed: 1))
        XCTAssertEqual(report.unmatched, Row(reviewed: 1))
    }

    func testGroundTruthFromTheGeneratorCountsGenuinePaymentsWithoutAPattern() {
        var tally = DetectionTally()
        let samples = Traffic.generate(Traffic.profile(fraud: 0.05), count: 20_000)
        let truths = samples.compactMap(\.message.truth)
        for truth in truths {
            tally.expect(truth)
            tally.record(.decided(truth.isFraud ? .block : .approve), transactionId: truth.transactionId)
        }
        let report = tally.report
        let frauds = truths.filter(\.isFraud)
        XCTAssertGreaterThan(frauds.count, 0)
        XCTAssertEqual(report.fraud, Row(blocked: frauds.count))
        XCTAssertEqual(report.genuine, Row(approved: truths.count - frauds.count))
        for pattern in FraudPattern.allCases {
            XCTAssertEqual(row(report, pattern).blocked, frauds.filter { $0.pattern == pattern }.count, "\(pattern)")
        }
    }

    func testTableIsAlignedAndSaysWhatWasNotDecided() {
        let lines = knownTally().report.tableLines(indent: "  ")
        XCTAssertEqual(lines.count, 1 + FraudPattern.allCases.count + 1 + 2)
        XCTAssertEqual(lines[0], "  pattern               frauds  review  block  missed  recall  not decided")
        XCTAssertEqual(lines[1], "  card_testing              10       3      5       1  88.9 %            1")
        XCTAssertEqual(lines[2], "  account_takeover           0       0      0       0       -            0")
        XCTAssertEqual(lines[6], "  all fraud                 10       3      5       1  88.9 %            1")
        let table = lines[0...6]
        XCTAssertEqual(Set(table.map(\.count)).count, 1, "rows of one width:\n" + table.joined(separator: "\n"))
        XCTAssertEqual(
            lines[7], "  false alerts     3 of 988 genuine payments decided: 3.01 per 1,000 decided, 3.04 per 1,000 genuine")
        XCTAssertEqual(lines[8], "  not decided      1 late, 1 dead-lettered, 1 with no outcome read back (1 of them fraud)")
    }

    func testUnmatchedOutcomesAreNamedInTheTable() {
        var tally = DetectionTally()
        tally.record(.late, transactionId: "x")
        tally.record(.deadLettered, transactionId: "y")
        tally.record(.deadLettered, transactionId: "z")
        let lines = tally.report.tableLines()
        XCTAssertEqual(
            lines.last!,
            "  no truth         1 late, 2 dead-lettered with no ground truth (malformed input, or a second outcome for a transaction)")
        XCTAssertTrue(lines[lines.count - 3].contains("0 of 0 genuine payments decided: - per 1,000 decided, - per 1,000 genuine"))
        XCTAssertTrue(lines[lines.count - 2].hasSuffix("0 late, 0 dead-lettered, 0 with no outcome read back (0 of them fraud)"))
    }
}
