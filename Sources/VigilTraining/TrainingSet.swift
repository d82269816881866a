import VigilCore

/// The history ready for fitting and evaluation: the training slice (older examples) and the validation period
/// (newer transactions, labelled or not), in event-time order.
public struct TrainingSet: Sendable {
    public var train = ExampleSlice()
    /// Every transaction of the validation period. Unlabelled ones (immature, or blocked and excluded) count for
    /// alert rates, which are a property of traffic; only labelled ones count for precision, recall and AUCs.
    public var validation = ExampleSlice()
    public var counts = DataCounts()
    public var firstEventMs: Int64 = 0
    public var lastEventMs: Int64 = 0
    /// Unlabelled transactions after this event time were not used as negatives.
    public var maturityCutoffMs: Int64 = 0
    /// Event time of the first validation transaction.
    public var validationStartMs: Int64?
    /// The catalog the slices' columns come from.
    public var catalog = FeatureCatalog.v2
    /// Names of the fraud patterns of the ground truth (index 0 is unknown, ""); empty without ground truth.
    public var patternNames: [String] = []
    /// What an operator should know about the data (a catalog left out, mixed catalogs).
    public var notes: [String] = []

    public init() {}

    public init(train: ExampleSlice, validation: ExampleSlice) {
        self.train = train
        self.validation = validation
        firstEventMs = (train.times + validation.times).min() ?? 0
        lastEventMs = (train.times + validation.times).max() ?? 0
        validationStartMs = validation.times.first
        counts.trainExamples = train.examples
        counts.trainPositives = train.positives
        counts.validationExamples = validation.examples
        counts.validationPositives = validation.positives
        counts.validationTraffic = validation.count
        counts.positives = train.positives + validation.positives
        counts.negatives = train.examples + validation.examples - counts.positives
    }
}

/// Transactions in compact rows: raw feature values of the slice's columns as Float32 (scored exactly as a model
/// would score the record, up to Float32 rounding), a label (0, 1, or `unlabelled`), the event time and, when a
/// ground-truth file was given, the fraud pattern (an index into `TrainingSet.patternNames`, 0 for unknown).
public struct ExampleSlice: Sendable {
    public static let unlabelled: UInt8 = 255

    /// The features of each row, in order: the training catalog's.
    public private(set) var columns: [Feature]
    public private(set) var raw: [Float] = []
    public private(set) var labels: [UInt8] = []
    public private(set) var times: [Int64] = []
    /// Empty when no row has a pattern.
    public private(set) var patterns: [UInt8] = []
    /// Importance weight of each row (1 / its sampling rate, `NegativeSample`); empty when every row weighs 1.
    public private(set) var weights: [Float] = []
    /// Rows with a label.
    public private(set) var examples = 0
    public private(set) var positives = 0

    public init(columns: [Feature] = Array(Feature.allCases)) {
        self.columns = columns
    }

    public var count: Int { labels.count }

    public mutating func reserveCapacity(_ rows: Int) {
        raw.reserveCapacity(rows * columns.count)
        labels.reserveCapacity(rows)
        times.reserveCapacity(rows)
    }

    public mutating func append(_ values: some Collection<Float>, label: UInt8, time: Int64, pattern: UInt8 = 0, weight: Float = 1) {
        precondition(values.count == columns.count && (label <= 1 || label == Self.unlabelled) && weight > 0)
        raw.append(contentsOf: values)
        labels.append(label)
        times.append(time)
        if pattern != 0 && patterns.isEmpty { patterns = [UInt8](repeating: 0, count: labels.count - 1) }
        if !patterns.isEmpty { patterns.append(pattern) }
        if weight != 1 && weights.isEmpty { weights = [Float](repeating: 1, count: labels.count - 1) }
        if !weights.isEmpty { weights.append(weight) }
        if label <= 1 { examples += 1 }
        if label == 1 { positives += 1 }
    }

    public mutating func append(_ features: FeatureVector, label: UInt8, time: Int64, pattern: UInt8 = 0) {
        append(columns.map { Float(features[$0]) }, label: label, time: time, pattern: pattern)
    }

    /// A row's raw values as the scorer sees them (features outside the columns are 0).
    public func features(_ row: Int) -> FeatureVector {
        var vector = FeatureVector()
        let base = row * columns.count
        for (c, feature) in columns.enumerated() { vector[feature] = Double(raw[base + c]) }
        return vector
    }

    /// The pattern of a row, 0 when unknown.
    public func pattern(_ row: Int) -> UInt8 { patterns.isEmpty ? 0 : patterns[row] }

    /// The importance weight of a row (1 unless the row stands for sampled-out transactions too).
    public func weight(_ row: Int) -> Float { weights.isEmpty ? 1 : weights[row] }

    /// The rows `keep` selects, in order (with their labels, times, patterns and weights).
    public func filter(_ keep: (Int) -> Bool) -> ExampleSlice {
        var out = ExampleSlice(columns: columns)
        let width = columns.count
        for row in 0..<count where keep(row) {
            out.append(raw[row * width..<(row + 1) * width], label: labels[row], time: times[row], pattern: pattern(row), weight: weight(row))
        }
        return out
    }

    /// The same rows with each weight multiplied by `factor(row)` (for a subsample that stands for the rest).
    public func reweighted(_ factor: (Int) -> Float) -> ExampleSlice {
        var out = self
        if out.weights.isEmpty { out.weights = [Float](repeating: 1, count: count) }
        for row in 0..<count { out.weights[row] *= factor(row) }
        if out.weights.allSatisfy({ $0 == 1 }) { out.weights = [] }
        return out
    }
}

/// Counts of every stage from records read to examples used; reported in the summary and the model file.
public struct DataCounts: Sendable, Equatable {
    public var featureRecords = 0
    public var badFeatureRecords = 0
    public var duplicateFeatureRecords = 0
    /// Distinct transactions with a feature record.
    public var transactions = 0
    /// Of those, records of catalog v1 and v2.
    public var catalogV1Transactions = 0
    public var catalogV2Transactions = 0
    /// Transactions left out because their catalog is not the one fitted on (`--catalog 2`).
    public var excludedByCatalog = 0
    public var blocked = 0
    public var labelRecords = 0
    public var badLabelRecords = 0
    /// Labels that repeated a transaction already labelled (the last reported wins).
    public var relabelled = 0
    public var labelledTransactions = 0
    /// Labels whose transaction has no feature record: reported, not used.
    public var labelsForUnknownTransactions = 0
    /// Unlabelled and older than the maturity window: used as negatives.
    public var unlabelledNegatives = 0
    /// Unlabelled and younger than the maturity window: not used.
    public var excludedImmature = 0
    /// Unlabelled and blocked, with `BlockedPolicy.exclude`: not used.
    public var excludedBlockedUnlabelled = 0
    public var positives = 0
    public var negatives = 0
    public var trainExamples = 0
    public var trainPositives = 0
    public var validationExamples = 0
    public var validationPositives = 0
    /// All transactions of the validation period, labelled or not.
    public var validationTraffic = 0
    /// The sample of unlabelled transactions, when there were more than `TrainingOptions.maxSampledRows`; every
    /// count above is of rows kept (sampled-out transactions are neither examples nor traffic rows, their kept
    /// neighbours stand for them through their weights).
    public var sample: NegativeSample?

    public init() {}
}
