import VigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Chooses each feature's transform from the data instead of by hand. Pure: no I/O.
///
/// The choice is made inside the training slice: its newest `holdoutFraction` (by weight, in event-time order) is an
/// inner hold-out, the rest is fitted on. The validation slice is left alone, because it already picks the
/// thresholds and decides the promotion; choosing transforms on it too would make its figures optimistic.
///
/// Greedy, one feature at a time in catalog order, starting from the plan given (the hand-chosen plan plus any
/// `--transform` override): for each feature not fixed by an override, try identity, log1p and a clip at the
/// fitting part's `clipQuantiles`, refit the whole model with each, and keep the one with the lowest class-weighted
/// log-loss on the hold-out among those that beat the current plan by at least `margin` (relative) without lowering
/// the hold-out PR AUC. 0/1 flags and constant
/// features keep their transform (every transform gives them the same model). At most `1 + 2 * features` refits,
/// on at most `maxRows` rows: every positive, and an evenly spaced share of the negatives, weighted up to stand for
/// the rest. Deterministic: the same slice gives the same plan.
public struct TransformSelection: Sendable {
    public var l2: Double
    public var holdoutFraction = 0.2
    /// A change must lower the hold-out log-loss by at least this share.
    public var margin = 0.002
    public var maxRows = 200_000
    public var clipQuantiles = (low: 0.01, high: 0.99)
    public var maxIterations = 25

    public init(l2: Double) {
        self.l2 = l2
    }

    /// What was chosen for one feature.
    public struct Choice: Sendable, Equatable {
        public var feature: Feature
        /// The plan's transform before the choice.
        public var start: FeatureTransform
        public var chosen: FeatureTransform
        /// Why it is what it is: "override", "flag" (0/1 or constant), or "data".
        public var basis: String
        /// Hold-out log-loss of each transform tried (in the order tried), empty unless chosen by data.
        public var tried: [Tried]
    }

    public struct Tried: Sendable, Equatable {
        public var transform: FeatureTransform
        public var holdoutLoss: Double
        /// Weighted PR AUC on the hold-out (nil without fraud there).
        public var holdoutPRAUC: Double?
    }

    /// How a plan does on the hold-out.
    struct Judgement {
        var loss: Double
        var prAUC: Double?

        /// Better than `current` by the margin in log-loss, and not worse in PR AUC: log-loss alone rewards a better
        /// fit of the bulk, which can come with a worse top of the ranking, where the alerts are.
        func beats(_ current: Judgement, margin: Double) -> Bool {
            loss <= current.loss * (1 - margin) && (prAUC ?? 0) >= (current.prAUC ?? 0)
        }
    }

    /// The chosen plan and what it gained.
    public struct Report: Sendable, Equatable {
        public var plan: TransformPlan
        public var choices: [Choice]
        /// Class-weighted hold-out log-loss of the starting plan and of the chosen one.
        public var startLoss: Double
        public var chosenLoss: Double
        public var fits: Int
        public var fitRows: Int
        public var holdoutRows: Int
        /// Validation PR AUC of a model fitted on the whole training slice with the starting plan and with the chosen
        /// one (filled in by `TrainingJob`; equal when nothing changed).
        public var startValidationPRAUC: Double?
        public var chosenValidationPRAUC: Double?

        public var changed: [Choice] { choices.filter { $0.chosen != $0.start } }
    }

    /// Chooses a plan for `train`'s columns, starting from `start`; `fixed` features keep theirs. `progress` hears
    /// about each feature.
    public func choose(
        _ train: ExampleSlice, start: TransformPlan, fixed: Set<Feature>, progress: (String) -> Void = { _ in }
    ) -> Report {
        let (fitting, holdout) = split(thin(train))
        var plan = start
        var fits = 0
        func judge(_ plan: TransformPlan) -> Judgement {
            fits += 1
            return holdoutJudgement(plan, fitting: fitting, holdout: holdout)
        }
        var current = fitting.examples > 0 && holdout.examples > 0 ? judge(plan) : Judgement(loss: .nan, prAUC: nil)
        let startLoss = current.loss
        var choices: [Choice] = []
        for (c, feature) in train.columns.enumerated() {
            let original = start[feature]
            if fixed.contains(feature) {
                choices.append(Choice(feature: feature, start: original, chosen: original, basis: "override", tried: []))
                continue
            }
            let values = (0..<fitting.count).map { Double(fitting.raw[$0 * fitting.columns.count + c]) }
            guard current.loss.isFinite, !values.allSatisfy({ $0 == 0 || $0 == 1 }) else {
                choices.append(Choice(feature: feature, start: original, chosen: original, basis: "flag", tried: []))
                continue
            }
            progress("transform of \(feature.name)")
            var candidates: [FeatureTransform] = [.identity, .log1p]
            let sorted = values.sorted()
            let lo = Self.quantile(sorted, clipQuantiles.low), hi = Self.quantile(sorted, clipQuantiles.high)
            if lo < hi { candidates.append(.clip(min: lo, max: hi)) }
            var tried = [Tried(transform: original, holdoutLoss: current.loss, holdoutPRAUC: current.prAUC)]
            var best: (transform: FeatureTransform, judgement: Judgement)?
            for candidate in candidates where candidate != original {
                var trial = plan
                trial[feature] = candidate
                let j = judge(trial)
                tried.append(Tried(transform: candidate, holdoutLoss: j.loss, holdoutPRAUC: j.prAUC))
                if j.beats(current, margin: margin), j.loss < best?.judgement.loss ?? .infinity { best = (candidate, j) }
            }
            if let best {
                plan[feature] = best.transform
                current = best.judgement
            }
            choices.append(Choice(feature: feature, start: original, chosen: plan[feature], basis: "data", tried: tried))
        }
        return Report(plan: plan, choices: choices, startLoss: startLoss, chosenLoss: current.loss, fits: fits,
                      fitRows: fitting.count, holdoutRows: holdout.count)
    }

    /// Every positive and an evenly spaced share of the negatives (weighted by the share's inverse), at most `maxRows`.
    func thin(_ train: ExampleSlice) -> ExampleSlice {
        let negatives = train.examples - train.positives
        guard train.count > maxRows, negatives > 0 else { return train }
        let room = max(maxRows - train.positives, 1)
        let every = (negatives + room - 1) / room
        guard every > 1 else { return train }
        var negativeIndex = 0
        var keep = [Bool](repeating: false, count: train.count)
        for row in 0..<train.count {
            if train.labels[row] == 1 { keep[row] = true; continue }
            keep[row] = negativeIndex % every == 0
            negativeIndex += 1
        }
        let kept = train.filter { keep[$0] }
        return kept.reweighted { kept.labels[$0] == 1 ? 1 : Float(every) }
    }

    /// The older part to fit on and the newest `holdoutFraction` (by weight) to judge on.
    func split(_ slice: ExampleSlice) -> (fitting: ExampleSlice, holdout: ExampleSlice) {
        let total = (0..<slice.count).reduce(0.0) { $0 + Double(slice.weight($1)) }
        let cut = total * (1 - holdoutFraction)
        var seen = 0.0
        var inFitting = [Bool](repeating: true, count: slice.count)
        for row in 0..<slice.count {
            inFitting[row] = seen < cut
            seen += Double(slice.weight(row))
        }
        return (slice.filter { inFitting[$0] }, slice.filter { !inFitting[$0] })
    }

    /// Fits on `fitting` with `plan` and returns the class-weighted mean log-loss on `holdout` (the class weights of
    /// the fit, so both classes count as in the objective) and the weighted PR AUC there.
    func holdoutJudgement(_ plan: TransformPlan, fitting: ExampleSlice, holdout: ExampleSlice) -> Judgement {
        let standardization = Standardization.fit(fitting, transforms: plan)
        let regression = LogisticRegression(l2: l2, classWeighting: .balanced, maxIterations: maxIterations, tolerance: 1e-10)
        let fit = regression.fit(standardization.design(fitting))
        let x = standardization.design(holdout)
        var sum = 0.0, weight = 0.0
        var scores = [Double](repeating: 0, count: x.rows)
        for row in 0..<x.rows {
            var z = fit.bias
            for c in 0..<x.columns { z += fit.weights[c] * Double(x.values[row * x.columns + c]) }
            let y = x.labels[row]
            let w = (y == 1 ? fit.classWeights.positive : fit.classWeights.negative) * Double(x.weights.isEmpty ? 1 : x.weights[row])
            let softplus = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))
            sum += w * (softplus - (y == 1 ? z : 0))
            weight += w
            scores[row] = z
        }
        let prAUC = Ranking.averagePrecision(scores: scores, labels: x.labels.map { $0 == 1 }, weights: x.weights)
        return Judgement(loss: weight > 0 ? sum / weight : .nan, prAUC: prAUC)
    }

    /// The `q` quantile of sorted values (nearest rank), as the shortest decimal of its Float32 value (the values
    /// are Float32), so that the model file shows `424.23`, not `424.2300109863281`.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        let value = sorted[min(sorted.count - 1, max(0, Int((q * Double(sorted.count - 1)).rounded())))]
        return Double(Float(value).description) ?? value
    }
}
