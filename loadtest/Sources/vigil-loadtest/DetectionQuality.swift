import VigilTraffic

/// Vigil's verdicts against the generator's ground truth: confusion counts for "block" and for "review or block"
/// as the positive class, and per-pattern recall.
struct DetectionQuality: Sendable, Codable {
    var decided = 0
    var fraud = 0
    var verdicts: [String: Int] = [:]
    var blockTruePositives = 0
    var blocks = 0
    var flagTruePositives = 0
    var flags = 0
    /// Per fraud pattern: fraud transactions decided, and how many of them got review or block.
    var patternFraud: [String: Int] = [:]
    var patternFlagged: [String: Int] = [:]

    mutating func add(isFraud: Bool, outcome: Outcome, pattern: Int?) {
        decided += 1
        let name: String
        switch outcome {
        case .block: name = "block"
        case .review: name = "review"
        default: name = "approve"
        }
        verdicts[name, default: 0] += 1
        if isFraud { fraud += 1 }
        if outcome == .block {
            blocks += 1
            if isFraud { blockTruePositives += 1 }
        }
        if outcome == .block || outcome == .review {
            flags += 1
            if isFraud { flagTruePositives += 1 }
        }
        if isFraud, let pattern, pattern < FraudPattern.allCases.count {
            let key = FraudPattern.allCases[pattern].rawValue
            patternFraud[key, default: 0] += 1
            if outcome == .block || outcome == .review { patternFlagged[key, default: 0] += 1 }
        }
    }

    static func ratio(_ a: Int, _ b: Int) -> Double? { b == 0 ? nil : Double(a) / Double(b) }

    var blockPrecision: Double? { Self.ratio(blockTruePositives, blocks) }
    var blockRecall: Double? { Self.ratio(blockTruePositives, fraud) }
    var flagPrecision: Double? { Self.ratio(flagTruePositives, flags) }
    var flagRecall: Double? { Self.ratio(flagTruePositives, fraud) }
}
