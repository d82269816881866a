/// Threshold-free measures of how well scores rank positives above negatives. Pure functions.
public enum Ranking {
    /// ROC AUC: the probability that a random positive scores above a random negative, ties counting half
    /// (Mann-Whitney U with average ranks). nil unless both classes are present.
    public static func rocAUC(scores: [Double], labels: [Bool], weights: [Float] = []) -> Double? {
        precondition(scores.count == labels.count && (weights.isEmpty || weights.count == labels.count))
        if !weights.isEmpty { return weightedROCAUC(scores: scores, labels: labels, weights: weights) }
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        let negatives = labels.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var rankSum = 0.0  // of the positives, ranks from 1
        var i = 0
        while i < order.count {
            var j = i
            var positivesInGroup = 0
            while j < order.count, scores[order[j]] == scores[order[i]] {
                if labels[order[j]] { positivesInGroup += 1 }
                j += 1
            }
            let averageRank = Double(i + 1 + j) / 2  // ranks i+1 ... j
            rankSum += averageRank * Double(positivesInGroup)
            i = j
        }
        let p = Double(positives), n = Double(negatives)
        return (rankSum - p * (p + 1) / 2) / (p * n)
    }

    /// PR AUC as average precision: `sum over thresholds of (R_k - R_{k-1}) * P_k`, one threshold per distinct
    /// score (tied scores enter together). nil when there is no positive.
    ///
    /// With `weights` (importance weights of sampled rows), every count is a sum of weights: the estimate of the
    /// average precision on the traffic the sample stands for.
    public static func averagePrecision(scores: [Double], labels: [Bool], weights: [Float] = []) -> Double? {
        precondition(scores.count == labels.count && (weights.isEmpty || weights.count == labels.count))
        func w(_ i: Int) -> Double { weights.isEmpty ? 1 : Double(weights[i]) }
        let positives = labels.indices.reduce(0.0) { $0 + (labels[$1] ? w($1) : 0) }
        guard positives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0.0, flagged = 0.0
        var ap = 0.0
        var previousRecall = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] {
                if labels[order[j]] { truePositives += w(order[j]) }
                flagged += w(order[j])
                j += 1
            }
            let recall = truePositives / positives
            let precision = truePositives / flagged
            ap += (recall - previousRecall) * precision
            previousRecall = recall
            i = j
        }
        return ap
    }
}

extension Ranking {
    /// ROC AUC with importance weights: the weighted share of (positive, negative) pairs ranked right, ties half.
    static func weightedROCAUC(scores: [Double], labels: [Bool], weights: [Float]) -> Double? {
        var positives = 0.0, negatives = 0.0
        for (label, w) in zip(labels, weights) { if label { positives += Double(w) } else { negatives += Double(w) } }
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var below = 0.0  // negative weight strictly below the current group
        var pairs = 0.0
        var i = 0
        while i < order.count {
            var j = i
            var groupPositive = 0.0, groupNegative = 0.0
            while j < order.count, scores[order[j]] == scores[order[i]] {
                if labels[order[j]] { groupPositive += Double(weights[order[j]]) } else { groupNegative += Double(weights[order[j]]) }
                j += 1
            }
            pairs += groupPositive * (below + groupNegative / 2)
            below += groupNegative
            i = j
        }
        return pairs / (positives * negatives)
    }
}

/// What flagging every transaction scoring at or above `threshold` does on the validation period.
public struct OperatingPoint: Sendable, Equatable {
    public var threshold: Double
    /// Labelled examples at or above the threshold, and the positives among them.
    public var flaggedExamples: Int
    public var truePositives: Int
    /// nil when nothing labelled is flagged.
    public var precision: Double?
    /// nil when there is no positive.
    public var recall: Double?
    /// Share of all validation-period transactions (labelled or not) at or above the threshold.
    public var rate: Double

    /// With `weights` (importance weights of sampled rows), precision, recall and rate are weighted estimates of the
    /// full traffic's; `flaggedExamples` and `truePositives` stay counts of rows.
    public init(threshold: Double, scores: [Double], labels: [UInt8], weights: [Float] = []) {
        precondition(weights.isEmpty || weights.count == scores.count)
        self.threshold = threshold
        var flaggedExamples = 0, truePositives = 0
        var flagged = 0.0, total = 0.0, flaggedLabelled = 0.0, caught = 0.0, positives = 0.0
        for (row, (score, label)) in zip(scores, labels).enumerated() {
            let w = weights.isEmpty ? 1 : Double(weights[row])
            total += w
            if label == 1 { positives += w }
            guard score >= threshold else { continue }
            flagged += w
            if label <= 1 { flaggedExamples += 1; flaggedLabelled += w }
            if label == 1 { truePositives += 1; caught += w }
        }
        self.flaggedExamples = flaggedExamples
        self.truePositives = truePositives
        precision = flaggedExamples > 0 ? caught / flaggedLabelled : nil
        recall = positives > 0 ? caught / positives : nil
        rate = total > 0 ? flagged / total : 0
    }
}
