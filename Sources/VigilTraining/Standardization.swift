import VigilCore

/// Per-feature transform, mean and standard deviation: what turns a raw feature into what the model's weights
/// multiply. Means and deviations are taken over the training examples after the transform.
public struct Standardization: Sendable, Equatable {
    /// The columns, in order; `means` and `stds` are per column.
    public var features: [Feature]
    public var transforms: TransformPlan
    public var means: [Double]
    /// Population standard deviations; a feature that is constant on the training slice gets 1 (its
    /// standardized value is then 0 everywhere and its weight 0).
    public var stds: [Double]

    public init(features: [Feature] = Array(Feature.allCases), transforms: TransformPlan, means: [Double], stds: [Double]) {
        precondition(means.count == features.count && stds.count == features.count)
        self.features = features
        self.transforms = transforms
        self.means = means
        self.stds = stds
    }

    /// Fits means and deviations on the labelled rows of `slice`.
    public static func fit(_ slice: ExampleSlice, transforms: TransformPlan) -> Standardization {
        let features = slice.columns
        let columns = features.count
        let perColumn = features.map { transforms[$0] }
        var sums = [Double](repeating: 0, count: columns)
        var n = 0.0  // total importance weight
        slice.raw.withUnsafeBufferPointer { raw in
            for row in 0..<slice.count where slice.labels[row] <= 1 {
                let w = Double(slice.weight(row))
                n += w
                for c in 0..<columns { sums[c] += w * perColumn[c].apply(Double(raw[row * columns + c])) }
            }
        }
        let means = sums.map { n > 0 ? $0 / n : 0 }
        var squares = [Double](repeating: 0, count: columns)
        slice.raw.withUnsafeBufferPointer { raw in
            for row in 0..<slice.count where slice.labels[row] <= 1 {
                let w = Double(slice.weight(row))
                for c in 0..<columns {
                    let d = perColumn[c].apply(Double(raw[row * columns + c])) - means[c]
                    squares[c] += w * d * d
                }
            }
        }
        let stds = (0..<columns).map { c -> Double in
            let s = n > 0 ? (squares[c] / n).squareRoot() : 0
            return s > 1e-9 * Swift.max(1, abs(means[c])) && s.isFinite ? s : 1
        }
        return Standardization(features: features, transforms: transforms, means: means, stds: stds)
    }

    /// The labelled rows of `slice`, transformed and standardized, as a dense matrix for the optimiser.
    public func design(_ slice: ExampleSlice) -> DesignMatrix {
        precondition(slice.columns == features)
        let columns = features.count
        let perColumn = features.map { transforms[$0] }
        var values: [Float] = []
        values.reserveCapacity(slice.examples * columns)
        var labels: [UInt8] = []
        labels.reserveCapacity(slice.examples)
        var weights: [Float] = []
        if !slice.weights.isEmpty { weights.reserveCapacity(slice.examples) }
        let scales = stds.map { 1 / $0 }
        slice.raw.withUnsafeBufferPointer { raw in
            for row in 0..<slice.count where slice.labels[row] <= 1 {
                for c in 0..<columns {
                    values.append(Float((perColumn[c].apply(Double(raw[row * columns + c])) - means[c]) * scales[c]))
                }
                labels.append(slice.labels[row])
                if !slice.weights.isEmpty { weights.append(slice.weights[row]) }
            }
        }
        return DesignMatrix(columns: columns, values: values, labels: labels, weights: weights)
    }
}

/// Rows of standardized features with 0/1 labels, row-major.
public struct DesignMatrix: Sendable {
    public var columns: Int
    public var values: [Float]
    public var labels: [UInt8]
    /// Importance weight per row (sampling), empty when every row weighs 1.
    public var weights: [Float]

    public init(columns: Int, values: [Float], labels: [UInt8], weights: [Float] = []) {
        precondition(values.count == columns * labels.count && (weights.isEmpty || weights.count == labels.count))
        self.columns = columns
        self.values = values
        self.labels = labels
        self.weights = weights
    }

    public var rows: Int { labels.count }
    public var positives: Int { labels.reduce(0) { $0 + Int($1) } }

    /// Total importance weight of all rows and of the positive rows (the counts when unweighted).
    public var weightedCounts: (rows: Double, positives: Double) {
        guard !weights.isEmpty else { return (Double(rows), Double(positives)) }
        var all = 0.0, positive = 0.0
        for (w, y) in zip(weights, labels) {
            all += Double(w)
            if y == 1 { positive += Double(w) }
        }
        return (all, positive)
    }
}
