/// Review and block thresholds chosen for an operating target on the validation period.
public struct ThresholdChoice: Sendable, Equatable {
    public var review: Double
    public var block: Double
    /// Where the target could not be met as asked, and what was done instead.
    public var notes: [String]
}

/// Picks thresholds for an alert budget and a block precision. Pure.
///
/// - review: the lowest score threshold at which the share of validation-period transactions reviewed or blocked
///   stays within the alert budget (alert rates are measured on all transactions, labelled or not).
/// - block: the lowest threshold whose precision on the labelled validation examples reaches the target (the most
///   fraud blocked at that precision), but not below the review threshold, so blocks stay inside the budget.
///
/// Thresholds are actual validation scores, and a score at or above a threshold is flagged, as in the scorer.
public enum ThresholdSelection {
    /// `CompiledModel` needs `0 < review <= block < 1`.
    public static let lowest = 1e-6
    public static let highest = (1.0).nextDown

    /// With `weights` (importance weights of a sampled validation period), the budget and the precision are on
    /// weighted counts: estimates for the traffic the sample stands for.
    public static func choose(
        scores: [Double], labels: [UInt8], blockPrecision: Double, alertBudget: Double, weights: [Float] = []
    ) -> ThresholdChoice {
        precondition(scores.count == labels.count && (weights.isEmpty || weights.count == scores.count))
        func w(_ i: Int) -> Double { weights.isEmpty ? 1 : Double(weights[i]) }
        var notes: [String] = []
        let order = scores.indices.sorted { scores[$0] > scores[$1] }

        // Review: walk distinct scores from the top while the flagged count stays within the budget.
        let total = weights.isEmpty ? Double(scores.count) : weights.reduce(0.0) { $0 + Double($1) }
        let allowed = weights.isEmpty ? (alertBudget * total + 1e-9).rounded(.down) : alertBudget * total * (1 + 1e-12)
        var review: Double?
        var flagged = 0.0
        var i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] { flagged += w(order[j]); j += 1 }
            if flagged > allowed { break }
            review = scores[order[i]]
            i = j
        }
        if review == nil {
            notes.append("alert budget allows no transaction of the validation period; review threshold set above every score")
            review = (scores.max() ?? 0.5).nextUp
        }
        var reviewThreshold = clamp(review!)

        // Block: lowest threshold with precision >= target on labelled examples.
        var block: Double?
        var truePositives = 0.0, flaggedExamples = 0.0
        i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] {
                let label = labels[order[j]]
                if label <= 1 { flaggedExamples += w(order[j]) }
                if label == 1 { truePositives += w(order[j]) }
                j += 1
            }
            if flaggedExamples > 0, truePositives / flaggedExamples >= blockPrecision {
                block = scores[order[i]]
            }
            i = j
        }
        var blockThreshold: Double
        if let block {
            blockThreshold = clamp(block)
        } else {
            notes.append("no threshold reaches block precision \(blockPrecision) on validation; blocking effectively off (block = \(highest))")
            blockThreshold = highest
        }
        if blockThreshold < reviewThreshold {
            notes.append("block threshold raised to the review threshold to stay within the alert budget")
            blockThreshold = reviewThreshold
        }
        if reviewThreshold > blockThreshold { reviewThreshold = blockThreshold }
        return ThresholdChoice(review: reviewThreshold, block: blockThreshold, notes: notes)
    }

    static func clamp(_ t: Double) -> Double { min(max(t, lowest), highest) }
}
