import VigilCore

/// Fits, calibrates and judges a candidate model on a `TrainingSet`. Pure: no I/O.
public struct Trainer: Sendable {
    public var options: TrainingOptions

    public init(options: TrainingOptions) {
        self.options = options
    }

    /// Standardizes on the training slice, fits, picks thresholds on the validation period, evaluates the
    /// candidate and the current model on the same validation period, and applies the promotion gate.
    public func train(
        _ set: TrainingSet, version: String, current: CompiledModel?, progress: (FitProgress) -> Void = { _ in }
    ) throws(TrainingError) -> TrainingResult {
        let positives = set.train.positives, negatives = set.train.examples - set.train.positives
        guard positives > 0, negatives > 0 else { throw .oneClassOnly(positives: positives, negatives: negatives) }
        var warnings: [String] = []

        let standardization = Standardization.fit(set.train, transforms: options.transforms)
        let design = standardization.design(set.train)
        let regression = LogisticRegression(l2: options.l2, classWeighting: .balanced, maxIterations: options.maxIterations)
        let fit = regression.fit(design, progress: progress)
        if !fit.converged { warnings.append("the fit did not converge in \(fit.iterations) iterations (largest gradient \(fit.gradientNorm))") }

        // Score the validation period with the model as it will be deployed, then pick its thresholds.
        let provisional = Self.modelFile(version: version, standardization: standardization, fit: fit,
                                         thresholds: ModelFile.Thresholds(review: 0.5, block: 0.9))
        let scores: [Double]
        do { scores = ModelEvaluation.scores(try CompiledModel(provisional), set.validation) } catch {
            throw .invalidModel("\(error)")
        }
        // The serving model on the same slice first: the candidate's alert budget may be bounded by its alert rate.
        let currentScores = current.map { ModelEvaluation.scores($0, set.validation) }
        let currentEvaluation = current.map { model in
            ModelEvaluation.evaluate(version: model.version, scores: currentScores!, labels: set.validation.labels, thresholds: model.thresholds,
                                     weights: set.validation.weights)
        }
        let gate = PromotionGate(options: options)
        let budget = gate.budget(serving: currentEvaluation)
        if budget < options.alertBudget, let currentEvaluation {
            warnings.append("review threshold chosen for an alert budget of \(percentText(budget)): \(PromotionGate.plain(options.maxAlertGrowth))x "
                + "the current model's alert rate \(percentText(currentEvaluation.alertRate)) on the slice (--max-alert-growth), "
                + "below the absolute budget \(percentText(options.alertBudget))")
        }
        let choice = ThresholdSelection.choose(
            scores: scores, labels: set.validation.labels, blockPrecision: options.blockPrecision, alertBudget: budget,
            weights: set.validation.weights)
        warnings.append(contentsOf: choice.notes)
        let thresholds = ModelFile.Thresholds(review: choice.review, block: choice.block)
        let file = Self.modelFile(version: version, standardization: standardization, fit: fit, thresholds: thresholds)
        do { _ = try CompiledModel(file) } catch { throw .invalidModel("\(error)") }

        let candidate = ModelEvaluation.evaluate(version: version, scores: scores, labels: set.validation.labels, thresholds: thresholds,
                                                 weights: set.validation.weights)
        let patterns = PatternRecall.measure(
            names: set.patternNames, patterns: set.validation.patterns, candidateScores: scores,
            candidate: (thresholds.review, thresholds.block), currentScores: currentScores,
            current: current.map { ($0.thresholds.review, $0.thresholds.block) })
        warnings.append(contentsOf: set.notes)
        if set.validation.positives < 30 {
            warnings.append("only \(set.validation.positives) fraud cases in the validation slice: its metrics are noisy")
        }
        for (c, feature) in standardization.features.enumerated() where standardization.stds[c] == 1 && fit.weights[c] == 0 {
            warnings.append("\(feature.name) is constant on the training slice (weight 0)")
        }
        let promotion = gate.decide(candidate: candidate, current: currentEvaluation, fitConverged: fit.converged)
        return TrainingResult(
            model: file, standardization: standardization, fit: fit, thresholds: choice, candidate: candidate,
            current: currentEvaluation, patterns: patterns, promotion: promotion, warnings: warnings)
    }

    /// The model file of a fit: one term per feature of the training catalog (the standardization's columns),
    /// weights in log-odds per standardized unit.
    public static func modelFile(
        version: String, standardization: Standardization, fit: LogisticFit, thresholds: ModelFile.Thresholds
    ) -> ModelFile {
        let terms = standardization.features.enumerated().map { c, feature -> ModelFile.Term in
            let transform = standardization.transforms[feature]
            var term = ModelFile.Term(
                name: feature.name, transform: transform.name, mean: standardization.means[c],
                std: standardization.stds[c], weight: fit.weights[c])
            if case .clip(let lo, let hi) = transform {
                term.min = lo
                term.max = hi
            }
            return term
        }
        return ModelFile(version: version, features: terms, bias: fit.bias, thresholds: thresholds)
    }
}

/// A candidate model and everything known about it.
public struct TrainingResult: Sendable {
    /// The candidate, without training metadata (`TrainingJob` adds it).
    public var model: ModelFile
    public var standardization: Standardization
    public var fit: LogisticFit
    public var thresholds: ThresholdChoice
    public var candidate: ModelEvaluation
    public var current: ModelEvaluation?
    /// Recall per fraud pattern on the validation period, both models; empty without ground truth.
    public var patterns: [PatternRecall] = []
    public var promotion: PromotionDecision
    /// Things an operator should know (non-convergence, unmet targets, thin validation data).
    public var warnings: [String]
}
