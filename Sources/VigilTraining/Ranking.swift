/// Threshold-free measures of how well scores rank positives above negatives. Pure functions.
public enum Ranking {
    /// ROC AUC: the probability that a random positive scores above a random negative, ties counting half
    /// (Mann-Whitney U with average ranks). nil unless both classes are present.
    public static func rocAUC(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count)
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
    public static func averagePrecision(scores: [Double], labels: [Bool]) -> Double? {
        precondition(scores.count == labels.count)
        let positives = labels.reduce(0) { $0 + ($1 ? 1 : 0) }
        guard positives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var truePositives = 0, flagged = 0
        var ap = 0.0
        var previousRecall = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] {
                if labels[order[j]] { truePositives += 1 }
                flagged += 1
                j += 1
            }
            let recall = Double(truePositives) / Double(positives)
            let precision = Double(truePositives) / Double(flagged)
            ap += (recall - previousRecall) * precision
            previousRecall = recall
            i = j
        }
        return ap
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

    public init(threshold: Double, scores: [Double], labels: [UInt8]) {
        self.threshold = threshold
        var flagged = 0, flaggedExamples = 0, truePositives = 0, positives = 0
        for (score, label) in zip(scores, labels) {
            if label == 1 { positives += 1 }
            guard score >= threshold else { continue }
            flagged += 1
            if label <= 1 { flaggedExamples += 1 }
            if label == 1 { truePositives += 1 }
        }
        self.flaggedExamples = flaggedExamples
        self.truePositives = truePositives
        precision = flaggedExamples > 0 ? Double(truePositives) / Double(flaggedExamples) : nil
        recall = positives > 0 ? Double(truePositives) / Double(positives) : nil
        rate = scores.isEmpty ? 0 : Double(flagged) / Double(scores.count)
    }
}
