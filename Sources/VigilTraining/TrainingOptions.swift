import VigilCore

/// Everything `vigil train` can be told, with the documented defaults.
public struct TrainingOptions: Sendable, Equatable {
    /// Unlabelled transactions younger than this (relative to the newest event time in the data) are not negatives.
    public var maturityDays: Double = 30
    /// Share of examples, the newest by event time, held out for validation.
    public var validationFraction: Double = 0.2
    /// L2 penalty on the standardized weights (not on the bias), on the class-weighted log-loss summed over examples.
    public var l2: Double = 1.0
    /// The block threshold is the lowest whose validation precision reaches this.
    public var blockPrecision: Double = 0.9
    /// The review threshold keeps the share of validation-period traffic that is reviewed or blocked at most this.
    public var alertBudget: Double = 0.02
    /// The candidate's alert rate may be at most this many times the serving model's on the same slice (the review
    /// threshold is chosen for it, and the gate checks it).
    public var maxAlertGrowth: Double = 1.25
    /// The candidate is promoted when its validation PR AUC is at least the current model's plus this.
    public var minPRAUCGain: Double = 0.0
    /// What an unlabelled transaction that was blocked counts as.
    public var blockedUnlabelled: BlockedPolicy = .exclude
    /// Per-feature transforms of the candidate model.
    public var transforms: TransformPlan = .standard
    /// Which feature catalog to fit on.
    public var catalog: CatalogChoice = .auto
    /// Newton iterations at most.
    public var maxIterations: Int = 50
    /// Unlabelled, unblocked transactions kept at most: beyond it they are sampled by a hash of their id and weighted
    /// (`NegativeSample`), so memory is bounded whatever the history's length. Fraud, labelled and blocked
    /// transactions are always kept on top.
    public var maxSampledTransactions: Int = 2_000_000
    /// Choose each feature's transform on the newest part of the training slice (`TransformSelection`), starting
    /// from `transforms`; off, `transforms` is used as it is.
    public var chooseTransforms = true
    /// Features whose transform was given explicitly (`--transform`): never changed by the choice.
    public var fixedTransforms: Set<Feature> = []

    public init() {}

    /// Every problem with the options, empty when they are usable.
    public func problems() -> [String] {
        var problems: [String] = []
        if !(maturityDays >= 0 && maturityDays.isFinite) { problems.append("maturity days must be >= 0, got \(maturityDays)") }
        if !(validationFraction > 0 && validationFraction < 1) {
            problems.append("validation fraction must be in (0, 1), got \(validationFraction)")
        }
        if !(l2 >= 0 && l2.isFinite) { problems.append("l2 must be >= 0, got \(l2)") }
        if !(blockPrecision > 0 && blockPrecision <= 1) { problems.append("block precision must be in (0, 1], got \(blockPrecision)") }
        if !(alertBudget > 0 && alertBudget < 1) { problems.append("alert budget must be in (0, 1), got \(alertBudget)") }
        if !(maxAlertGrowth >= 1) { problems.append("max alert growth must be >= 1 (or inf), got \(maxAlertGrowth)") }
        if !minPRAUCGain.isFinite || abs(minPRAUCGain) > 1 { problems.append("min PR AUC gain must be in [-1, 1], got \(minPRAUCGain)") }
        if maxIterations < 1 { problems.append("max iterations must be >= 1") }
        if maxSampledTransactions < 1_000 { problems.append("max examples must be >= 1000, got \(maxSampledTransactions)") }
        problems.append(contentsOf: transforms.problems())
        return problems
    }
}

/// How blocked transactions without a label are used. Blocked payments never settle, so they rarely get a
/// chargeback: "no label" says little about them.
public enum BlockedPolicy: String, Sendable, CaseIterable {
    /// Left out of training and of labelled validation (unknown outcome). The default.
    case exclude
    /// Counted as legitimate like any other unlabelled mature transaction (teaches the model to stop blocking them).
    case negative
}
