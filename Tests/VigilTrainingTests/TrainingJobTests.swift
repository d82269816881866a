import Foundation
import VigilCore
import XCTest
@testable import VigilTraining

final class TrainingJobTests: XCTestCase {
    static let history = SyntheticHistory(count: 30_000)

    func baseline() throws -> ModelFile {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/baseline.json")
        return try ModelFile.parse(Data(contentsOf: url))
    }

    func run(current: ModelFile?, options: TrainingOptions = TrainingOptions()) throws -> TrainingOutcome {
        let job = TrainingJob(options: options, version: "2026-11-25T02-00-00Z", startedAtMs: 1_795_572_000_000)
        return try job.run(
            features: MemorySource(lines: Self.history.features), labels: MemorySource(lines: Self.history.labels), current: current)
    }

    /// The history's training set with default options, built once for the tests that only need the trainer.
    static let set: TrainingSet = {
        var book = LabelBook()
        _ = try! MemorySource(lines: history.labels).read({ book.add($0) }, progress: { _ in })
        var builder = TrainingSetBuilder(options: TrainingOptions(), labels: book)
        _ = try! MemorySource(lines: history.features).read({ builder.add($0) }, progress: { _ in })
        return try! builder.build()
    }()

    func train(current: ModelFile?, options: TrainingOptions = TrainingOptions()) throws -> TrainingResult {
        try Trainer(options: options).train(Self.set, version: "candidate", current: current.map { try CompiledModel($0) })
    }

    /// On history from a known model the candidate finds the signal: the three informative features get about
    /// their true weights (per transformed unit), the noise features little, and it ranks well.
    func testLearnsTheGeneratingModel() throws {
        let outcome = try run(current: try baseline())
        let model = outcome.model
        XCTAssertTrue(outcome.result.fit.converged)
        for term in model.features {
            let perUnit = term.weight / term.std
            let feature = Feature(name: term.name)!
            if let truth = SyntheticHistory.trueWeights[feature] {
                XCTAssertEqual(perUnit, truth, accuracy: 0.25, "\(term.name)")
            } else {
                XCTAssertLessThan(abs(term.weight), 0.12, "\(term.name) is noise")
            }
        }
        // It ranks the validation slice almost as well as the generating model itself.
        let validation = Self.set.validation
        var oracle: [Double] = [], classes: [Bool] = []
        for row in 0..<validation.count where validation.labels[row] <= 1 {
            oracle.append(SyntheticHistory.trueLogit(validation.features(row)))
            classes.append(validation.labels[row] == 1)
        }
        let best = Ranking.rocAUC(scores: oracle, labels: classes)!
        XCTAssertGreaterThan(best, 0.75)
        XCTAssertEqual(outcome.result.candidate.rocAUC!, best, accuracy: 0.02)
        XCTAssertLessThanOrEqual(outcome.result.candidate.alertRate, 0.02 + 1e-12)
        XCTAssertEqual(outcome.counts.transactions, 30_000)
        XCTAssertGreaterThan(outcome.counts.excludedImmature, 9000)  // the last 30 of 90 days, unlabelled
        XCTAssertNotNil(outcome.result.current)
        let summary = outcome.summary()
        XCTAssertTrue(summary.contains("PR AUC"))
        XCTAssertTrue(summary.contains(outcome.promoted ? "PROMOTED" : "NOT PROMOTED"))
    }

    /// The written file loads through ModelFile.parse and CompiledModel and scores every validation transaction
    /// exactly as the in-memory candidate does; its metadata says what it was trained on.
    func testModelFileRoundTrip() throws {
        let set = Self.set
        let result = try Trainer(options: TrainingOptions()).train(set, version: "v-test", current: nil)
        let path = temporaryPath("models/candidate-v-test.json")
        var file = result.model
        file.training = .object(["note": .string("round trip"), "n": .number(Double(set.counts.trainExamples))])
        try ModelOutput.write(file, to: path)
        let loaded = try ModelFile.parse(Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(loaded, file)
        let fromDisk = try CompiledModel(loaded)
        let inMemory = try CompiledModel(result.model)
        for row in 0..<set.validation.count {
            let x = set.validation.features(row)
            XCTAssertEqual(fromDisk.score(x), inMemory.score(x))
        }
        XCTAssertEqual(ModelEvaluation.evaluate(fromDisk, on: set.validation), result.candidate)
        XCTAssertEqual(try ModelOutput.readIfPresent(path), file)
        XCTAssertNil(try ModelOutput.readIfPresent(temporaryPath("models/none.json")))
    }

    /// The promotion gate end to end: a candidate equal to the current model passes with margin 0 and fails
    /// with a required gain; a useless current model is replaced.
    func testPromotionGateBothWays() throws {
        let first = try train(current: nil)
        XCTAssertTrue(first.promotion.promoted)
        var same = first.model
        same.version = "previous"
        XCTAssertTrue(try train(current: same).promotion.promoted)
        var demanding = TrainingOptions()
        demanding.minPRAUCGain = 0.01
        let kept = try train(current: same, options: demanding)
        XCTAssertFalse(kept.promotion.promoted)
        XCTAssertEqual(kept.current?.prAUC, kept.candidate.prAUC)
        XCTAssertTrue(kept.promotion.reason.contains("keeping the current model"))
        var useless = first.model
        useless.version = "useless"
        for i in useless.features.indices { useless.features[i].weight = 0 }
        XCTAssertTrue(try train(current: useless, options: demanding).promotion.promoted)
    }

    /// The decision is recorded in the written model's metadata.
    func testPromotionDecisionInMetadata() throws {
        let outcome = try run(current: try baseline())
        guard case .object(let training)? = outcome.model.training, case .object(let promotion)? = training["promotion"] else {
            return XCTFail("no promotion in the training metadata")
        }
        XCTAssertEqual(promotion["promoted"], .bool(outcome.promoted))
        XCTAssertEqual(promotion["reason"], .string(outcome.result.promotion.reason))
        XCTAssertEqual(training["input_sha256"], .string(outcome.inputSHA256))
        XCTAssertNotNil(training["metrics"])
        XCTAssertNotNil(training["counts"])
        XCTAssertTrue(outcome.model.description!.contains(outcome.promoted ? "Promoted" : "Not promoted"))
    }

    /// Same input, same options, same version: the same model file, byte for byte.
    func testDeterministic() throws {
        let a = try run(current: try baseline())
        let b = try run(current: try baseline())
        XCTAssertEqual(try a.model.encoded(), try b.model.encoded())
    }

    func testRejectsOneClassTraining() throws {
        var options = TrainingOptions()
        options.maturityDays = 0
        let lines = (0..<10).map { featureLine(id: "tx-\($0)", timeMs: baseTimeMs + Int64($0)) }
        let job = TrainingJob(options: options, version: "v", startedAtMs: 0)
        XCTAssertThrowsError(try job.run(features: MemorySource(lines: lines), labels: MemorySource(lines: []), current: nil)) {
            XCTAssertEqual($0 as? TrainingError, .oneClassOnly(positives: 0, negatives: 8))
        }
    }
}
