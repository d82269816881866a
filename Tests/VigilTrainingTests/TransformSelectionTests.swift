import VigilCore
import XCTest
@testable import VigilTraining

final class TransformSelectionTests: XCTestCase {
    /// The synthetic history's training slice: fraud depends on log1p(count_1m) and log1p(amount_vs_avg).
    static let train: ExampleSlice = {
        let history = SyntheticHistory(count: 40_000, seed: 5)
        var book = LabelBook()
        _ = try! MemorySource(lines: history.labels).read({ book.add($0) }, progress: { _ in })
        var options = TrainingOptions()
        options.maturityDays = 0
        var builder = TrainingSetBuilder(options: options, labels: book)
        _ = try! MemorySource(lines: history.features).read({ builder.add($0) }, progress: { _ in })
        return try! builder.build().train
    }()

    static var handPlan: TransformPlan {
        var plan = TransformPlan.standard
        plan[.count1m] = .identity
        plan[.amountVsAvg] = .identity
        return plan
    }

    /// A feature whose signal is log-shaped gets log1p when the hand plan said identity, and the model improves.
    func testLogShapedSignalGetsLog1p() {
        let report = TransformSelection(l2: 1).choose(Self.train, start: Self.handPlan, fixed: [])
        XCTAssertEqual(report.plan[.count1m], .log1p)
        XCTAssertEqual(report.plan[.amountVsAvg], .log1p)
        XCTAssertLessThan(report.chosenLoss, report.startLoss * 0.99)
        // 0/1 flags are not tried.
        let flag = report.choices.first { $0.feature == .highRiskMcc }!
        XCTAssertEqual(flag.basis, "flag")
        XCTAssertEqual(flag.chosen, .identity)
        XCTAssertLessThanOrEqual(report.fits, 1 + 2 * Self.train.columns.count)
    }

    /// An override is never changed, even where the data would change it.
    func testOverridesWin() {
        let report = TransformSelection(l2: 1).choose(Self.train, start: Self.handPlan, fixed: [.count1m])
        XCTAssertEqual(report.plan[.count1m], .identity)
        XCTAssertEqual(report.choices.first { $0.feature == .count1m }?.basis, "override")
        XCTAssertEqual(report.plan[.amountVsAvg], .log1p)
    }

    /// The same slice gives the same plan and losses; thinning to fewer rows keeps every fraud.
    func testDeterministicAndThinned() {
        var selection = TransformSelection(l2: 1)
        XCTAssertEqual(selection.choose(Self.train, start: Self.handPlan, fixed: []), selection.choose(Self.train, start: Self.handPlan, fixed: []))
        selection.maxRows = 10_000
        let thinned = selection.thin(Self.train)
        XCTAssertEqual(thinned.positives, Self.train.positives)
        XCTAssertLessThanOrEqual(thinned.count, 10_000 + 1)
        let total = (0..<thinned.count).reduce(0.0) { $0 + Double(thinned.weight($1)) }
        XCTAssertEqual(total, Double(Self.train.count), accuracy: 0.01 * Double(Self.train.count))
        XCTAssertEqual(selection.choose(Self.train, start: Self.handPlan, fixed: []).plan[.count1m], .log1p)
    }

    /// The job reports the choice in its summary and metadata, and `--transforms standard` turns it off.
    func testJobReportsTheChoice() throws {
        let history = SyntheticHistory(count: 20_000, seed: 9)
        var options = TrainingOptions()
        options.transforms = Self.handPlan
        let job = TrainingJob(options: options, version: "v", startedAtMs: 1_795_572_000_000)
        let outcome = try job.run(features: MemorySource(lines: history.features), labels: MemorySource(lines: history.labels), current: nil)
        let selection = try XCTUnwrap(outcome.transformSelection)
        XCTAssertEqual(outcome.model.features.first { $0.name == Feature.count1m.name }?.transform, selection.plan[.count1m].name)
        XCTAssertNotNil(selection.startValidationPRAUC)
        XCTAssertEqual(selection.chosenValidationPRAUC, outcome.result.candidate.prAUC)
        XCTAssertTrue(outcome.summary().contains("Transforms  chosen on the newest part of the training slice"))
        guard case .object(let training) = outcome.metadata(), case .object(let transforms)? = training["transforms"] else {
            return XCTFail("no transforms in the metadata")
        }
        XCTAssertEqual(transforms["chosen_by_data"], .bool(true))

        options.chooseTransforms = false
        let off = try TrainingJob(options: options, version: "v", startedAtMs: 1_795_572_000_000)
            .run(features: MemorySource(lines: history.features), labels: MemorySource(lines: history.labels), current: nil)
        XCTAssertNil(off.transformSelection)
        XCTAssertEqual(off.model.features.first { $0.name == Feature.count1m.name }?.transform, "identity")
    }
}
