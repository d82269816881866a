import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// L2-regularised logistic regression fitted by Newton's method (IRLS) with a backtracking line search.
///
/// Minimises `sum_i c_i * logloss_i + l2/2 * |w|^2` over the weights `w` and an unpenalised bias, where `c_i` is
/// the weight of example i's class times its importance weight (1 unless it was sampled, see `NegativeSample`). With `balanced` weighting each class weighs `n / (2 * n_class)`, so the rare
/// positives count as much in total as the negatives; that shifts the bias by about `log(n_neg / n_pos)` and
/// leaves the slopes (of a well-specified model) alone.
///
/// Deterministic: the data is summed in a fixed number of chunks whose partial sums are added in order, however
/// many threads run them.
public struct LogisticRegression: Sendable {
    public enum ClassWeighting: String, Sendable { case none, balanced }

    public var l2: Double
    public var classWeighting: ClassWeighting
    public var maxIterations: Int
    /// Converged when half the Newton decrement is below `tolerance * (1 + |objective|)`.
    public var tolerance: Double

    public init(l2: Double = 1.0, classWeighting: ClassWeighting = .balanced, maxIterations: Int = 50, tolerance: Double = 1e-12) {
        self.l2 = l2
        self.classWeighting = classWeighting
        self.maxIterations = maxIterations
        self.tolerance = tolerance
    }

    /// Class weights (negative, positive) for `x`, from the importance-weighted class totals (the counts the
    /// sample stands for), so a sampled fit balances the classes as the full-data fit would.
    public func classWeights(_ x: DesignMatrix) -> (negative: Double, positive: Double) {
        let (n, positives) = x.weightedCounts
        guard classWeighting == .balanced, positives > 0, positives < n else { return (1, 1) }
        return (n / (2 * (n - positives)), n / (2 * positives))
    }

    /// Fits the model; `progress` hears about every iteration.
    public func fit(_ x: DesignMatrix, progress: (FitProgress) -> Void = { _ in }) -> LogisticFit {
        let p = x.columns + 1  // weights, then the bias
        let weights = classWeights(x)
        var beta = [Double](repeating: 0, count: p)
        var fit = LogisticFit(weights: [], bias: 0, iterations: 0, converged: false, objective: .nan, gradientNorm: .nan,
                              classWeights: weights)
        var pass = evaluate(x, beta, weights, withDerivatives: true)
        for iteration in 1...maxIterations {
            var gradient = pass.gradient
            var hessian = pass.hessian
            for j in 0..<x.columns {
                gradient[j] += l2 * beta[j]
                hessian[j * p + j] += l2
            }
            let objective = pass.value + 0.5 * l2 * (0..<x.columns).reduce(0) { $0 + beta[$1] * beta[$1] }
            let gradientNorm = gradient.reduce(0) { max($0, abs($1)) }
            fit.objective = objective
            fit.gradientNorm = gradientNorm
            fit.iterations = iteration - 1

            guard let step = Self.newtonStep(hessian, gradient, p: p) else { break }
            let slope = zip(gradient, step).reduce(0) { $0 + $1.0 * $1.1 }  // g'd = -(Newton decrement)
            if -slope / 2 <= tolerance * (1 + abs(objective)) {
                // Inside the region of quadratic convergence: this last full step squares the remaining error.
                for j in 0..<p { beta[j] += step[j] }
                fit.converged = true
                fit.iterations = iteration
                break
            }
            var alpha = 1.0
            var next = beta
            var accepted = false
            for _ in 0..<40 {
                for j in 0..<p { next[j] = beta[j] + alpha * step[j] }
                let value = evaluate(x, next, weights, withDerivatives: false).value
                    + 0.5 * l2 * (0..<x.columns).reduce(0) { $0 + next[$1] * next[$1] }
                if value <= objective + 1e-4 * alpha * slope {
                    accepted = true
                    break
                }
                alpha /= 2
            }
            guard accepted else { break }  // no progress possible at this precision
            beta = next
            fit.iterations = iteration
            pass = evaluate(x, beta, weights, withDerivatives: true)
            progress(FitProgress(iteration: iteration, objective: objective, gradientNorm: gradientNorm, step: alpha))
            if iteration == maxIterations {
                var g = pass.gradient
                for j in 0..<x.columns { g[j] += l2 * beta[j] }
                fit.gradientNorm = g.reduce(0) { max($0, abs($1)) }
                fit.objective = pass.value + 0.5 * l2 * (0..<x.columns).reduce(0) { $0 + beta[$1] * beta[$1] }
            }
        }
        fit.weights = Array(beta[0..<x.columns])
        fit.bias = beta[x.columns]
        return fit
    }

    /// `H d = -g`, adding a little to the diagonal if `H` is numerically singular.
    static func newtonStep(_ hessian: [Double], _ gradient: [Double], p: Int) -> [Double]? {
        let scale = (0..<p).reduce(0.0) { max($0, abs(hessian[$1 * p + $1])) }
        var jitter = 0.0
        for _ in 0..<12 {
            var h = hessian
            for j in 0..<p { h[j * p + j] += jitter }
            if let d = choleskySolve(h, gradient.map { -$0 }, n: p) { return d }
            jitter = jitter == 0 ? max(scale, 1) * 1e-12 : jitter * 100
        }
        return nil
    }

    struct Pass {
        var value: Double
        var gradient: [Double]
        /// Full symmetric matrix, row-major.
        var hessian: [Double]
    }

    static let chunks = 16

    /// The weighted log-loss and (optionally) its gradient and Hessian at `beta`.
    func evaluate(_ x: DesignMatrix, _ beta: [Double], _ weights: (negative: Double, positive: Double), withDerivatives: Bool) -> Pass {
        let columns = x.columns, p = columns + 1
        let rows = x.rows
        let chunkCount = Self.chunks
        let partialSize = 1 + p + p * p
        var partials = [Double](repeating: 0, count: chunkCount * partialSize)
        x.values.withUnsafeBufferPointer { values in
          x.labels.withUnsafeBufferPointer { labels in
            x.weights.withUnsafeBufferPointer { rowWeights in
                beta.withUnsafeBufferPointer { beta in
                    partials.withUnsafeMutableBufferPointer { partials in
                        // Each chunk writes only its own slice of `partials` and reads the shared inputs.
                        let shared = ChunkInputs(
                            values: values.baseAddress!, labels: labels.baseAddress!,
                            rowWeights: rowWeights.isEmpty ? nil : rowWeights.baseAddress!, beta: beta.baseAddress!,
                            out: partials.baseAddress!)
                        let work: @Sendable (Int) -> Void = { chunk in
                            let start = rows * chunk / chunkCount, end = rows * (chunk + 1) / chunkCount
                            Self.accumulate(shared.values, shared.labels, shared.rowWeights, shared.beta, rows: start..<end, columns: columns,
                                            weights: weights, withDerivatives: withDerivatives, into: shared.out + chunk * partialSize)
                        }
                        if rows >= 50_000 {
                            DispatchQueue.concurrentPerform(iterations: chunkCount, execute: work)
                        } else {
                            for chunk in 0..<chunkCount { work(chunk) }
                        }
                    }
                }
            }
          }
        }
        var pass = Pass(value: 0, gradient: [Double](repeating: 0, count: p), hessian: [Double](repeating: 0, count: p * p))
        for chunk in 0..<chunkCount {
            let base = chunk * partialSize
            pass.value += partials[base]
            guard withDerivatives else { continue }
            for j in 0..<p { pass.gradient[j] += partials[base + 1 + j] }
            for j in 0..<(p * p) { pass.hessian[j] += partials[base + 1 + p + j] }
        }
        if withDerivatives {
            for a in 0..<p { for b in 0..<a { pass.hessian[a * p + b] = pass.hessian[b * p + a] } }
        }
        return pass
    }

    /// Pointers shared by the chunks of one pass; safe because the pass waits for every chunk and chunks write
    /// disjoint memory.
    struct ChunkInputs: @unchecked Sendable {
        let values: UnsafePointer<Float>
        let labels: UnsafePointer<UInt8>
        let rowWeights: UnsafePointer<Float>?
        let beta: UnsafePointer<Double>
        let out: UnsafeMutablePointer<Double>
    }

    /// Sums over `rows` into `out`: value, gradient (p), Hessian upper triangle (p x p, row-major).
    private static func accumulate(
        _ values: UnsafePointer<Float>, _ labels: UnsafePointer<UInt8>, _ rowWeights: UnsafePointer<Float>?,
        _ beta: UnsafePointer<Double>, rows: Range<Int>,
        columns: Int, weights: (negative: Double, positive: Double), withDerivatives: Bool, into out: UnsafeMutablePointer<Double>
    ) {
        let p = columns + 1
        withUnsafeTemporaryAllocation(of: Double.self, capacity: p) { row in
            let row = row.baseAddress!
            row[columns] = 1
            var value = 0.0
            let gradient = out + 1
            let hessian = out + 1 + p
            for r in rows {
                let base = values + r * columns
                var z = beta[columns]
                for c in 0..<columns {
                    let v = Double(base[c])
                    row[c] = v
                    z += beta[c] * v
                }
                let y = labels[r]
                var weight = y == 1 ? weights.positive : weights.negative
                if let rowWeights { weight *= Double(rowWeights[r]) }
                // log(1 + e^z) - y z, computed without overflow.
                let softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
                value += weight * (softplus - (y == 1 ? z : 0))
                guard withDerivatives else { continue }
                let prob = 1 / (1 + exp(-z))
                let residual = weight * (prob - Double(y))
                let curvature = weight * prob * (1 - prob)
                for a in 0..<p {
                    let ra = row[a]
                    gradient[a] += residual * ra
                    let s = curvature * ra
                    let h = hessian + a * p
                    for b in a..<p { h[b] += s * row[b] }
                }
            }
            out[0] = value
        }
    }
}

/// A fitted model in standardized space.
public struct LogisticFit: Sendable, Equatable {
    /// One weight per column of the design matrix (per standardized feature).
    public var weights: [Double]
    public var bias: Double
    public var iterations: Int
    public var converged: Bool
    /// Final penalised objective and largest absolute gradient component.
    public var objective: Double
    public var gradientNorm: Double
    public var classWeights: (negative: Double, positive: Double)

    public static func == (a: LogisticFit, b: LogisticFit) -> Bool {
        a.weights == b.weights && a.bias == b.bias && a.iterations == b.iterations && a.converged == b.converged
            && a.objective == b.objective && a.gradientNorm == b.gradientNorm && a.classWeights == b.classWeights
    }
}

/// One Newton iteration done.
public struct FitProgress: Sendable {
    public var iteration: Int
    /// Objective and gradient at the start of the iteration.
    public var objective: Double
    public var gradientNorm: Double
    /// Line-search step length taken (1 = full Newton step).
    public var step: Double
}
