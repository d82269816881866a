import XCTest
@testable import VigilTraining

final class LogisticRegressionTests: XCTestCase {
    /// Data drawn from a logistic model with known weights: with many rows and almost no penalty the fit
    /// recovers the weights; balanced class weights leave the slopes alone and move the bias by log(n_neg/n_pos).
    func testRecoversKnownWeights() {
        let trueWeights = [1.5, -0.8, 0.0]
        let trueBias = -3.0
        var random = TestRandom(seed: 1)
        var rows: [[Double]] = []
        var labels: [UInt8] = []
        for _ in 0..<200_000 {
            let x = (0..<3).map { _ in random.normal() }
            let z = trueBias + zip(trueWeights, x).reduce(0) { $0 + $1.0 * $1.1 }
            rows.append(x)
            labels.append(random.bernoulli(sigmoid(z)) ? 1 : 0)
        }
        let x = design(rows, labels)

        let plain = LogisticRegression(l2: 1e-6, classWeighting: .none).fit(x)
        XCTAssertTrue(plain.converged)
        XCTAssertLessThan(plain.iterations, 15)
        for j in 0..<3 { XCTAssertEqual(plain.weights[j], trueWeights[j], accuracy: 0.04, "weight \(j)") }
        XCTAssertEqual(plain.bias, trueBias, accuracy: 0.05)

        let balanced = LogisticRegression(l2: 1e-6, classWeighting: .balanced).fit(x)
        XCTAssertTrue(balanced.converged)
        for j in 0..<3 { XCTAssertEqual(balanced.weights[j], trueWeights[j], accuracy: 0.06, "balanced weight \(j)") }
        let positives = Double(x.positives), negatives = Double(x.rows) - positives
        XCTAssertEqual(balanced.bias, trueBias + log(negatives / positives), accuracy: 0.08)
        XCTAssertEqual(balanced.classWeights.positive * positives, balanced.classWeights.negative * negatives, accuracy: 1e-6)
    }

    /// x = +1: 30 fraud, 10 legitimate; x = -1 mirrored. Unpenalised maximum likelihood: w = log(30/10), b = 0.
    func testSymmetricCaseHasClosedForm() {
        var rows: [[Double]] = []
        var labels: [UInt8] = []
        for (x, positives, negatives) in [(1.0, 30, 10), (-1.0, 10, 30)] {
            for _ in 0..<positives { rows.append([x]); labels.append(1) }
            for _ in 0..<negatives { rows.append([x]); labels.append(0) }
        }
        let fit = LogisticRegression(l2: 0, classWeighting: .balanced).fit(design(rows, labels))
        XCTAssertTrue(fit.converged)
        XCTAssertEqual(fit.weights[0], log(3), accuracy: 1e-9)
        XCTAssertEqual(fit.bias, 0, accuracy: 1e-9)
    }

    /// Separable data (x = +1 always fraud, x = -1 never): without a penalty the weight would grow forever; with
    /// l2 = λ the optimum solves λ w = 2 a σ(-w) with a rows per side, and b = 0 by symmetry.
    func testSeparableCaseIsHeldFiniteByL2() {
        let a = 50
        let lambda = 4.0
        let rows = Array(repeating: [1.0], count: a) + Array(repeating: [-1.0], count: a)
        let labels = [UInt8](repeating: 1, count: a) + [UInt8](repeating: 0, count: a)
        let fit = LogisticRegression(l2: lambda, classWeighting: .none).fit(design(rows, labels))
        XCTAssertTrue(fit.converged)
        let w = fit.weights[0]
        XCTAssertEqual(lambda * w, 2 * Double(a) * sigmoid(-w), accuracy: 1e-8)
        XCTAssertEqual(fit.bias, 0, accuracy: 1e-9)
        XCTAssertGreaterThan(w, 2)  // solves 4w = 100 σ(-w): w ≈ 2.83
        XCTAssertLessThan(w, 3.5)
    }

    /// A column that is 0 on every row gets weight 0; the penalty keeps the system solvable.
    func testConstantColumnGetsZeroWeight() {
        var random = TestRandom(seed: 3)
        var rows: [[Double]] = []
        var labels: [UInt8] = []
        for _ in 0..<2000 {
            let x = random.normal()
            rows.append([x, 0])
            labels.append(random.bernoulli(sigmoid(x - 1)) ? 1 : 0)
        }
        let fit = LogisticRegression(l2: 1).fit(design(rows, labels))
        XCTAssertTrue(fit.converged)
        XCTAssertEqual(fit.weights[1], 0)
    }

    /// Same input, same result, bit for bit (chunked sums are added in a fixed order); also above the size at
    /// which the chunks run in parallel.
    func testFitIsDeterministic() {
        var random = TestRandom(seed: 4)
        var rows: [[Double]] = []
        var labels: [UInt8] = []
        for _ in 0..<60_000 {
            let x = (0..<4).map { _ in random.normal() }
            rows.append(x)
            labels.append(random.bernoulli(sigmoid(x[0] - 2 * x[1] - 3)) ? 1 : 0)
        }
        let x = design(rows, labels)
        let first = LogisticRegression().fit(x)
        for _ in 0..<3 { XCTAssertEqual(LogisticRegression().fit(x), first) }
    }

    func testCholeskySolvesSmallSystem() {
        let a: [Double] = [4, 2, 2, 3]
        let x = choleskySolve(a, [6, 5], n: 2)!
        XCTAssertEqual(x[0], 1, accuracy: 1e-12)
        XCTAssertEqual(x[1], 1, accuracy: 1e-12)
        XCTAssertNil(choleskySolve([1, 2, 2, 1], [1, 1], n: 2))
    }
}
