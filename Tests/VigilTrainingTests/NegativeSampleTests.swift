import VigilCore
import XCTest
@testable import VigilTraining

/// The bounded-memory sample of unlabelled transactions: deterministic, order-free, and a sampled fit that matches
/// the exact fit within a stated tolerance.
final class NegativeSampleTests: XCTestCase {
    func build(_ features: [String], _ labels: [String], _ options: TrainingOptions) throws -> (TrainingSet, TrainingSetBuilder) {
        var book = LabelBook()
        _ = try MemorySource(lines: labels).read({ book.add($0) }, progress: { _ in })
        var builder = TrainingSetBuilder(options: options, labels: book)
        _ = try MemorySource(lines: features).read({ builder.add($0) }, progress: { _ in })
        let copy = builder
        return (try builder.build(), copy)
    }

    func options(budget: Int, maturityDays: Double = 0) -> TrainingOptions {
        var o = TrainingOptions()
        o.maturityDays = maturityDays
        o.maxSampledTransactions = budget
        return o
    }

    /// The threshold after any sequence of lowerings is the (budget + 1)-th smallest hash offered, whatever the order.
    func testThresholdIsTheBottomKBoundInAnyOrder() {
        var random = TestRandom(seed: 3)
        let hashes = (0..<5_000).map { _ in random.next() }
        var a = SampleThreshold(), b = SampleThreshold()
        for chunk in stride(from: 0, to: hashes.count, by: 700) {
            a.lower(toKeep: 1_000, of: Array(hashes[0..<min(chunk + 700, hashes.count)]).filter(a.keeps))
        }
        for chunk in stride(from: 0, to: hashes.count, by: 1_300) {
            let reversed = Array(hashes.reversed())
            b.lower(toKeep: 1_000, of: Array(reversed[0..<min(chunk + 1_300, reversed.count)]).filter(b.keeps))
        }
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.bound, hashes.sorted()[1_000])
        XCTAssertEqual(hashes.filter(a.keeps).count, 1_000)
        XCTAssertEqual(a.rate, 1_000.0 / 5_000, accuracy: 0.1 * 1_000 / 5_000)
    }

    /// Over budget, the builder keeps every fraud and exactly `budget` unlabelled transactions, the same ones in
    /// any read order and with redelivered copies, weighted 1 / rate.
    func testSampleIsDeterministicAndKeepsEveryFraud() throws {
        let history = SyntheticHistory(count: 20_000)
        let frauds = history.truth.filter { $0 }.count
        let (inOrder, builder) = try build(history.features, history.labels, options(budget: 3_000))
        XCTAssertNotNil(builder.sample)  // while reading: between the budget and its slack
        let sample = try XCTUnwrap(inOrder.counts.sample)
        XCTAssertEqual(sample.kept, 3_000)
        XCTAssertEqual(sample.offered, 20_000 - frauds)
        XCTAssertEqual(sample.rate, 3_000 / Double(20_000 - frauds), accuracy: 0.1 * 3_000 / Double(20_000 - frauds))
        XCTAssertEqual(inOrder.counts.positives, frauds)
        XCTAssertEqual(inOrder.counts.transactions, 20_000)

        var random = TestRandom(seed: 11)
        var shuffled = history.features
        for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(random.next() % UInt64(i + 1))) }
        let redelivered = shuffled + history.features.enumerated().filter { $0.offset % 7 == 0 }.map(\.element)
        let (other, _) = try build(redelivered, history.labels, options(budget: 3_000))
        for (a, b) in [(inOrder.train, other.train), (inOrder.validation, other.validation)] {
            XCTAssertEqual(a.raw, b.raw)
            XCTAssertEqual(a.labels, b.labels)
            XCTAssertEqual(a.weights, b.weights)
        }
        let weights = Set(inOrder.train.weights + inOrder.validation.weights)
        XCTAssertEqual(weights, [1, Float(sample.weight)])
    }

    /// Within budget nothing is sampled and the fit is exactly the old one; explicit weights of 1 give the same fit
    /// as no weights, bit for bit.
    func testRateOneIsTheExactFit() throws {
        let history = SyntheticHistory(count: 10_000)
        let (exact, exactBuilder) = try build(history.features, history.labels, options(budget: 2_000_000))
        let (atBudget, atBuilder) = try build(history.features, history.labels, options(budget: 10_000))
        XCTAssertNil(exactBuilder.sample)
        XCTAssertNil(atBuilder.sample)
        XCTAssertTrue(exact.train.weights.isEmpty && exact.validation.weights.isEmpty)
        let a = try Trainer(options: TrainingOptions()).train(exact, version: "a", current: nil)
        let b = try Trainer(options: TrainingOptions()).train(atBudget, version: "a", current: nil)
        XCTAssertEqual(a.fit, b.fit)
        XCTAssertEqual(a.candidate, b.candidate)

        let standardization = Standardization.fit(exact.train, transforms: .standard)
        let x = standardization.design(exact.train)
        var ones = x
        ones.weights = [Float](repeating: 1, count: x.rows)
        XCTAssertEqual(LogisticRegression().fit(x), LogisticRegression().fit(ones))
    }

    /// A 15 % sample of the negatives of 200,000 records fits within the stated tolerance of the exact fit:
    /// standardized weights within 0.05, per-unit weights of the informative features within 10 %, validation PR
    /// AUC (weighted) within 0.03 and alert rate within 0.3 points; without the importance weights the validation PR
    /// AUC would be far off, which is what the weights are for.
    func testSampledFitMatchesTheExactFit() throws {
        let history = SyntheticHistory(count: 200_000, seed: 21)
        let frauds = history.truth.filter { $0 }.count
        let budget = (200_000 - frauds) * 15 / 100
        let (exact, _) = try build(history.features, history.labels, options(budget: 2_000_000))
        let (sampled, _) = try build(history.features, history.labels, options(budget: budget))
        let sample = try XCTUnwrap(sampled.counts.sample)
        XCTAssertEqual(sample.rate, 0.15, accuracy: 0.01)
        XCTAssertEqual(sampled.counts.positives, exact.counts.positives)

        let trainer = Trainer(options: TrainingOptions())
        let full = try trainer.train(exact, version: "exact", current: nil)
        let fromSample = try trainer.train(sampled, version: "sampled", current: nil)
        XCTAssertTrue(full.fit.converged && fromSample.fit.converged)
        for (c, feature) in full.standardization.features.enumerated() {
            XCTAssertEqual(fromSample.fit.weights[c], full.fit.weights[c], accuracy: 0.05, "\(feature.name)")
            if SyntheticHistory.trueWeights[feature] != nil {
                let exactPerUnit = full.fit.weights[c] / full.standardization.stds[c]
                let sampledPerUnit = fromSample.fit.weights[c] / fromSample.standardization.stds[c]
                XCTAssertEqual(sampledPerUnit, exactPerUnit, accuracy: 0.10 * abs(exactPerUnit), "\(feature.name)")
            }
        }
        XCTAssertEqual(fromSample.fit.bias, full.fit.bias, accuracy: 0.10)
        XCTAssertEqual(fromSample.candidate.prAUC!, full.candidate.prAUC!, accuracy: 0.03)
        XCTAssertEqual(fromSample.candidate.alertRate, full.candidate.alertRate, accuracy: 0.003)

        // The same sample evaluated as if it were the whole traffic overstates precision.
        let scores = ModelEvaluation.scores(try CompiledModel(fromSample.model), sampled.validation)
        let unweighted = ModelEvaluation.evaluate(version: "u", scores: scores, labels: sampled.validation.labels,
                                                  thresholds: fromSample.model.thresholds)
        XCTAssertGreaterThan(abs(unweighted.prAUC! - full.candidate.prAUC!), 3 * abs(fromSample.candidate.prAUC! - full.candidate.prAUC!))
        print("sampled fit vs exact: rate \(sample.rate), max |dw| \(zip(fromSample.fit.weights, full.fit.weights).map { abs($0 - $1) }.max()!), "
            + "PR AUC \(full.candidate.prAUC!) exact, \(fromSample.candidate.prAUC!) sampled, \(unweighted.prAUC!) unweighted; "
            + "alert rate \(full.candidate.alertRate) exact, \(fromSample.candidate.alertRate) sampled")
    }
}
