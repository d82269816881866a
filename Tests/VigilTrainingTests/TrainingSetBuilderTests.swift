import VigilCore
import XCTest
@testable import VigilTraining

final class TrainingSetBuilderTests: XCTestCase {
    func build(features: [String], labels: [String], options: TrainingOptions = TrainingOptions()) throws -> TrainingSet {
        var book = LabelBook()
        _ = try MemorySource(lines: labels).read({ book.add($0) }, progress: { _ in })
        var builder = TrainingSetBuilder(options: options, labels: book)
        _ = try MemorySource(lines: features).read({ builder.add($0) }, progress: { _ in })
        return try builder.build()
    }

    func amounts(_ slice: ExampleSlice) -> [Double] { (0..<slice.count).map { slice.features($0)[.amount] } }

    func vector(amount: Double) -> FeatureVector {
        var f = FeatureVector()
        f[.amount] = amount
        return f
    }

    /// Validation holds the newest examples, whatever order the records came in; training never sees them.
    func testSplitsByEventTimeNotAtRandom() throws {
        var options = TrainingOptions()
        options.maturityDays = 0
        options.validationFraction = 0.3
        var lines: [String] = []
        for i in 0..<10 {
            lines.append(featureLine(id: "tx-\(i)", timeMs: baseTimeMs + Int64(i) * dayMs, features: vector(amount: Double(i))))
        }
        let labels = [labelLine(id: "tx-2", fraud: true), labelLine(id: "tx-8", fraud: true)]
        let inOrder = try build(features: lines, labels: labels, options: options)
        let shuffled = try build(features: [lines[7], lines[2], lines[9], lines[0], lines[5], lines[1], lines[8], lines[3], lines[6], lines[4]], labels: labels, options: options)
        for set in [inOrder, shuffled] {
            XCTAssertEqual(amounts(set.train), [0, 1, 2, 3, 4, 5, 6])
            XCTAssertEqual(amounts(set.validation), [7, 8, 9])
            XCTAssertEqual(set.train.positives, 1)
            XCTAssertEqual(set.validation.positives, 1)
            XCTAssertEqual(set.validationStartMs, baseTimeMs + 7 * dayMs)
        }
        XCTAssertEqual(inOrder.train.raw, shuffled.train.raw)
        XCTAssertEqual(inOrder.validation.raw, shuffled.validation.raw)
    }

    /// Equal event times are ordered by transaction key, so the split is the same for any input order.
    func testTiesInEventTimeSplitDeterministically() throws {
        var options = TrainingOptions()
        options.maturityDays = 0
        options.validationFraction = 0.5
        let lines = (0..<6).map { featureLine(id: "tx-\($0)", timeMs: baseTimeMs, features: vector(amount: Double($0))) }
        let a = try build(features: lines, labels: [labelLine(id: "tx-0", fraud: true)], options: options)
        let b = try build(features: lines.reversed(), labels: [labelLine(id: "tx-0", fraud: true)], options: options)
        XCTAssertEqual(amounts(a.train), amounts(b.train))
        XCTAssertEqual(amounts(a.validation), amounts(b.validation))
        XCTAssertEqual(a.train.count, 3)
    }

    /// Unlabelled transactions younger than the maturity window (from the newest event time) are not negatives;
    /// labelled ones are used at any age.
    func testLabelMaturity() throws {
        var options = TrainingOptions()
        options.maturityDays = 30
        options.validationFraction = 0.25
        // Days 0, 10, 50, 60 unlabelled; day 55 labelled fraud, day 58 labelled legitimate; newest is day 60.
        let days: [Int64] = [0, 10, 50, 55, 58, 60]
        let lines = days.map { featureLine(id: "tx-\($0)", timeMs: baseTimeMs + $0 * dayMs, features: vector(amount: Double($0))) }
        let set = try build(features: lines, labels: [labelLine(id: "tx-55", fraud: true), labelLine(id: "tx-58", fraud: false)], options: options)
        XCTAssertEqual(set.counts.excludedImmature, 2)  // days 50 and 60
        XCTAssertEqual(set.counts.unlabelledNegatives, 2)  // days 0 and 10
        XCTAssertEqual(set.counts.positives, 1)
        XCTAssertEqual(set.counts.negatives, 3)
        XCTAssertEqual(set.maturityCutoffMs, baseTimeMs + 30 * dayMs)
        // 4 examples, 1 for validation (day 58); the validation period also holds the unlabelled day 60, for rates.
        XCTAssertEqual(amounts(set.train), [0, 10, 55])
        XCTAssertEqual(amounts(set.validation), [58, 60])
        XCTAssertEqual(set.validation.labels, [0, ExampleSlice.unlabelled])
        XCTAssertEqual(set.validation.examples, 1)
        XCTAssertEqual(set.counts.validationTraffic, 2)
    }

    /// Blocked and unlabelled: unknown by default, negative if asked; a labelled blocked transaction is used.
    func testBlockedUnlabelledPolicy() throws {
        let lines = [
            featureLine(id: "a", timeMs: baseTimeMs, verdict: "block"),
            featureLine(id: "b", timeMs: baseTimeMs + dayMs, verdict: "block"),
            featureLine(id: "c", timeMs: baseTimeMs + 2 * dayMs),
            featureLine(id: "d", timeMs: baseTimeMs + 3 * dayMs),
        ]
        var options = TrainingOptions()
        options.maturityDays = 0
        let labels = [labelLine(id: "b", fraud: true)]
        let excluded = try build(features: lines, labels: labels, options: options)
        XCTAssertEqual(excluded.counts.excludedBlockedUnlabelled, 1)
        XCTAssertEqual(excluded.counts.blocked, 2)
        XCTAssertEqual(excluded.counts.positives + excluded.counts.negatives, 3)
        options.blockedUnlabelled = .negative
        let negative = try build(features: lines, labels: labels, options: options)
        XCTAssertEqual(negative.counts.excludedBlockedUnlabelled, 0)
        XCTAssertEqual(negative.counts.negatives, 3)
        XCTAssertEqual(negative.counts.positives, 1)
    }

    /// Redelivered feature records count once (the first is kept); labels of unknown transactions are counted;
    /// a relabel reported later wins.
    func testDuplicatesUnknownLabelsAndRelabels() throws {
        var options = TrainingOptions()
        options.maturityDays = 0
        let lines = [
            featureLine(id: "a", timeMs: baseTimeMs, features: vector(amount: 1)),
            featureLine(id: "b", timeMs: baseTimeMs + 1, features: vector(amount: 2)),
            featureLine(id: "a", timeMs: baseTimeMs, features: vector(amount: 99)),
            featureLine(id: "c", timeMs: baseTimeMs + 2, features: vector(amount: 3)),
        ]
        let labels = [
            labelLine(id: "a", fraud: true, reportedAtMs: 10),
            labelLine(id: "a", fraud: false, reportedAtMs: 20),  // chargeback reversed
            labelLine(id: "b", fraud: false, reportedAtMs: 20),
            labelLine(id: "b", fraud: true, reportedAtMs: 10),  // older, loses
            labelLine(id: "c", fraud: true, reportedAtMs: 5),
            labelLine(id: "zz", fraud: true),
            labelLine(id: "yy", fraud: false),
        ]
        let set = try build(features: lines, labels: labels, options: options)
        XCTAssertEqual(set.counts.featureRecords, 4)
        XCTAssertEqual(set.counts.duplicateFeatureRecords, 1)
        XCTAssertEqual(set.counts.transactions, 3)
        XCTAssertEqual(set.counts.labelsForUnknownTransactions, 2)
        XCTAssertEqual(set.counts.labelledTransactions, 3)
        XCTAssertEqual(set.counts.relabelled, 2)
        XCTAssertEqual(set.counts.positives, 1)  // only c
        let all = amounts(set.train) + amounts(set.validation)
        XCTAssertEqual(all.sorted(), [1, 2, 3])  // the first record of "a" (amount 1), not the redelivery
    }

    func testTooFewExamplesIsAnError() {
        XCTAssertThrowsError(try build(features: [featureLine(id: "a", timeMs: baseTimeMs)], labels: [])) { error in
            XCTAssertEqual(error as? TrainingError, .tooFewExamples(0))
        }
        XCTAssertThrowsError(try build(features: [], labels: [])) { error in
            XCTAssertEqual(error as? TrainingError, .noData)
        }
    }
}
