/// Recall per fraud pattern on the validation period (`vigil train --truth`): of the period's transactions that the
/// ground truth gives a pattern, the share a model reviews or blocks (score at or above its review threshold) and the
/// share it blocks. Every transaction of the pattern counts, labelled or not: the ground truth knows what the labels
/// have not said yet. For `none` (genuine payments) the same shares are the false-alarm rates.
public struct PatternRecall: Sendable, Equatable {
    public struct Shares: Sendable, Equatable {
        public var reviewed: Double
        public var blocked: Double
    }

    public var pattern: String
    /// Validation-period transactions with this pattern.
    public var transactions: Int
    public var candidate: Shares
    public var current: Shares?

    /// One entry per pattern present in the period, `none` last; empty when no transaction has a pattern.
    public static func measure(
        names: [String], patterns: [UInt8], candidateScores: [Double], candidate: (review: Double, block: Double),
        currentScores: [Double]?, current: (review: Double, block: Double)?
    ) -> [PatternRecall] {
        guard !patterns.isEmpty, names.count > 1 else { return [] }
        var total = [Int](repeating: 0, count: names.count)
        var flagged = [[Int]](repeating: [0, 0, 0, 0], count: names.count)  // candidate review, block; current review, block
        for (row, p) in patterns.enumerated() where p != 0 {
            let p = Int(p)
            total[p] += 1
            if candidateScores[row] >= candidate.review { flagged[p][0] += 1 }
            if candidateScores[row] >= candidate.block { flagged[p][1] += 1 }
            if let currentScores, let current {
                if currentScores[row] >= current.review { flagged[p][2] += 1 }
                if currentScores[row] >= current.block { flagged[p][3] += 1 }
            }
        }
        var result: [PatternRecall] = []
        for p in 1..<names.count where total[p] > 0 {
            let n = Double(total[p])
            result.append(PatternRecall(
                pattern: names[p], transactions: total[p],
                candidate: Shares(reviewed: Double(flagged[p][0]) / n, blocked: Double(flagged[p][1]) / n),
                current: currentScores == nil ? nil : Shares(reviewed: Double(flagged[p][2]) / n, blocked: Double(flagged[p][3]) / n)))
        }
        result.sort { a, b in
            let ga = a.pattern == PatternTruth.genuine, gb = b.pattern == PatternTruth.genuine
            return ga != gb ? gb : a.pattern < b.pattern
        }
        return result
    }
}
