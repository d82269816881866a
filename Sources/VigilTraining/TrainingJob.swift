import VigilCore

/// The whole retraining run as a library: read labels, then feature records, build the training set, train,
/// judge, and describe the candidate in its model file. Reading goes through `HistorySource`; everything after
/// is pure. Writing the file is the caller's (`ModelOutput`).
public struct TrainingJob: Sendable {
    public var options: TrainingOptions
    /// The candidate's version, e.g. `UTCTime.version(now)`.
    public var version: String
    /// When the run started (ms since the epoch), recorded in the model file.
    public var startedAtMs: Int64

    public init(options: TrainingOptions, version: String, startedAtMs: Int64) {
        self.options = options
        self.version = version
        self.startedAtMs = startedAtMs
    }

    /// `truth`, when given, is a ground-truth file of fraud patterns (`PatternTruth`): the summary then shows recall
    /// per pattern. It is never used to fit.
    public func run(
        features: any HistorySource, labels: any HistorySource, truth: (any HistorySource)? = nil, current: ModelFile?,
        progress: (TrainingProgress) -> Void = { _ in }
    ) throws -> TrainingOutcome {
        let currentModel = try current.map { try CompiledModel($0) }

        var patterns: PatternTruth?
        var truthSource: SourceSummary?
        if let truth {
            progress(.stage("reading ground truth"))
            var book = PatternTruth()
            truthSource = try truth.read({ book.add($0) }, progress: { progress(.reading("truth", $0)) })
            patterns = book
        }
        let truthTally = patterns?.tally

        progress(.stage("reading labels"))
        var book = LabelBook()
        let labelSource = try labels.read({ book.add($0) }, progress: { progress(.reading("labels", $0)) })

        progress(.stage("reading feature records"))
        var builder = TrainingSetBuilder(options: options, labels: consume book, truth: consume patterns)  // no second copies
        let featureSource = try features.read({ builder.add($0) }, progress: { progress(.reading("features", $0)) })
        let featureTally = builder.featureTally
        let labelTally = builder.labels.tally

        progress(.stage("splitting by event time"))
        let set = try builder.build()

        var fitOptions = options
        var selection: TransformSelection.Report?
        if options.chooseTransforms {
            progress(.stage("choosing transforms on the newest part of the training slice"))
            let chosen = TransformSelection(l2: options.l2).choose(set.train, start: options.transforms, fixed: options.fixedTransforms) {
                progress(.choosing($0))
            }
            fitOptions.transforms = chosen.plan
            selection = chosen
        }

        progress(.stage("fitting"))
        let result = try Trainer(options: fitOptions).train(set, version: version, current: currentModel) { progress(.fitting($0)) }
        if var chosen = selection {
            chosen.chosenValidationPRAUC = result.candidate.prAUC
            if chosen.plan == options.transforms {
                chosen.startValidationPRAUC = result.candidate.prAUC
            } else {
                progress(.stage("fitting the starting transform plan, for comparison"))
                let start = try Trainer(options: options).train(set, version: version, current: nil)
                chosen.startValidationPRAUC = start.candidate.prAUC
            }
            selection = chosen
        }

        var hasher = SHA256()
        hasher.update(Array("features:\(featureSource.sha256)\nlabels:\(labelSource.sha256)\n".utf8))
        var outcome = TrainingOutcome(
            result: result, counts: set.counts, featureTally: featureTally, labelTally: labelTally,
            featureSource: featureSource, labelSource: labelSource, inputSHA256: SHA256.hexString(hasher.finalize()),
            firstEventMs: set.firstEventMs, lastEventMs: set.lastEventMs, maturityCutoffMs: set.maturityCutoffMs,
            validationStartMs: set.validationStartMs, options: options, startedAtMs: startedAtMs, model: result.model,
            catalog: set.catalog, truthSource: truthSource, truthTally: truthTally, transformSelection: selection)
        outcome.model.training = outcome.metadata()
        outcome.model.description = "Fitted by vigil train: L2 logistic regression (Newton) with balanced class weights on "
            + "\(set.counts.trainExamples) examples from \(UTCTime.iso(set.firstEventMs)) to "
            + "\(set.validationStartMs.map(UTCTime.iso) ?? "-"), validated on \(set.counts.validationExamples) newer ones. "
            + (result.promotion.promoted ? "Promoted: " : "Not promoted: ") + result.promotion.reason + "."
        return outcome
    }
}

/// What the job reports while it runs.
public enum TrainingProgress: Sendable {
    case stage(String)
    /// Which input ("labels", "features") and how far.
    case reading(String, ReadProgress)
    case fitting(FitProgress)
    /// Which feature's transform is being chosen.
    case choosing(String)
}

/// Everything a run produced: the candidate model file (with its training metadata) and the facts behind it.
public struct TrainingOutcome: Sendable {
    public var result: TrainingResult
    public var counts: DataCounts
    public var featureTally: RecordTally
    public var labelTally: RecordTally
    public var featureSource: SourceSummary
    public var labelSource: SourceSummary
    /// SHA-256 over the two sources' fingerprints.
    public var inputSHA256: String
    public var firstEventMs: Int64
    public var lastEventMs: Int64
    public var maturityCutoffMs: Int64
    public var validationStartMs: Int64?
    public var options: TrainingOptions
    public var startedAtMs: Int64
    /// The candidate, `training` metadata included.
    public var model: ModelFile
    /// The feature catalog fitted on.
    public var catalog: FeatureCatalog = .v1
    /// The ground-truth file, when one was given.
    public var truthSource: SourceSummary?
    public var truthTally: RecordTally?
    /// How the transforms were chosen, nil when they were not (`TrainingOptions.chooseTransforms` off).
    public var transformSelection: TransformSelection.Report?

    public var promoted: Bool { result.promotion.promoted }
}
