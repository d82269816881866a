/// Whether the candidate replaces the current model, and why.
public struct PromotionDecision: Sendable, Equatable {
    public var promoted: Bool
    public var reason: String
}

/// Promotes a candidate whose validation PR AUC is not worse than the current model's by more than the configured
/// margin: `candidate >= current + minPRAUCGain`. PR AUC because with rare fraud it measures what the fraud team
/// lives with, precision over the range of recalls; ROC AUC is reported but not gated on. Pure.
public struct PromotionGate: Sendable {
    public var minPRAUCGain: Double

    public init(minPRAUCGain: Double = 0) {
        self.minPRAUCGain = minPRAUCGain
    }

    public func decide(candidate: ModelEvaluation, current: ModelEvaluation?, fitConverged: Bool = true) -> PromotionDecision {
        guard let candidatePR = candidate.prAUC else {
            return PromotionDecision(promoted: false, reason: "the validation slice has no labelled fraud, so the models cannot be compared; keeping the current model")
        }
        guard fitConverged else {
            return PromotionDecision(promoted: false, reason: "the fit did not converge; keeping the current model")
        }
        guard let current else {
            return PromotionDecision(promoted: true, reason: "no current model to compare with; candidate PR AUC \(Self.format(candidatePR))")
        }
        guard let currentPR = current.prAUC else {
            return PromotionDecision(promoted: true, reason: "the current model has no PR AUC on this slice")
        }
        let gain = candidatePR - currentPR
        let text = "candidate PR AUC \(Self.format(candidatePR)) vs current \(Self.format(currentPR)) (gain \(Self.signed(gain)), required \(Self.signed(minPRAUCGain)))"
        if gain >= minPRAUCGain - 1e-12 {
            return PromotionDecision(promoted: true, reason: text)
        }
        return PromotionDecision(promoted: false, reason: text + "; keeping the current model")
    }

    static func format(_ x: Double) -> String { fixed(x, 4) }
    static func signed(_ x: Double) -> String { (x >= 0 ? "+" : "") + fixed(x, 4) }
}

/// `x` with `digits` decimals, without Foundation.
func fixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "\(x)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let negative = x < 0
    let scaled = (abs(x) * scale).rounded()
    guard scaled < 9e15 else { return "\(x)" }
    let n = Int64(scaled)
    let whole = n / Int64(scale)
    var fraction = String(n % Int64(scale))
    while fraction.count < digits { fraction = "0" + fraction }
    let sign = negative && n != 0 ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole).\(fraction)"
}
