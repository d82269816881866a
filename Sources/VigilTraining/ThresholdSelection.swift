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

    public static func choose(scores: [Double], labels: [UInt8], blockPrecision: Double, alertBudget: Double) -> ThresholdChoice {
        precondition(scores.count == labels.count)
        var notes: [String] = []
        let order = scores.indices.sorted { scores[$0] > scores[$1] }

        // Review: walk distinct scores from the top while the flagged count stays within the budget.
        let allowed = Int((alertBudget * Double(scores.count) + 1e-9).rounded(.down))
        var review: Double?
        var flagged = 0
        var i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] { j += 1 }
            flagged += j - i
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
        var truePositives = 0, flaggedExamples = 0
        i = 0
        while i < order.count {
            var j = i
            while j < order.count, scores[order[j]] == scores[order[i]] {
                let label = labels[order[j]]
                if label <= 1 { flaggedExamples += 1 }
                if label == 1 { truePositives += 1 }
                j += 1
            }
            if flaggedExamples > 0, Double(truePositives) / Double(flaggedExamples) >= blockPrecision {
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
