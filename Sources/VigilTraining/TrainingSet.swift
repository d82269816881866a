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

/// Transactions in compact rows: raw feature values as Float32 (scored exactly as a model would score the
/// record, up to Float32 rounding), a label (0, 1, or `unlabelled`) and the event time.
public struct ExampleSlice: Sendable {
    public static let unlabelled: UInt8 = 255

    public private(set) var raw: [Float] = []
    public private(set) var labels: [UInt8] = []
    public private(set) var times: [Int64] = []
    /// Rows with a label.
    public private(set) var examples = 0
    public private(set) var positives = 0

    public init() {}

    public var count: Int { labels.count }

    public mutating func reserveCapacity(_ rows: Int) {
        raw.reserveCapacity(rows * Feature.count)
        labels.reserveCapacity(rows)
        times.reserveCapacity(rows)
    }

    public mutating func append(_ values: some Collection<Float>, label: UInt8, time: Int64) {
        precondition(values.count == Feature.count && (label <= 1 || label == Self.unlabelled))
        raw.append(contentsOf: values)
        labels.append(label)
        times.append(time)
        if label <= 1 { examples += 1 }
        if label == 1 { positives += 1 }
    }

    public mutating func append(_ features: FeatureVector, label: UInt8, time: Int64) {
        append((0..<Feature.count).map { Float(features.values[$0]) }, label: label, time: time)
    }

    /// A row's raw values as the scorer sees them.
    public func features(_ row: Int) -> FeatureVector {
        var vector = FeatureVector()
        let base = row * Feature.count
        for slot in 0..<Feature.count { vector.values[slot] = Double(raw[base + slot]) }
        return vector
    }
}

/// Counts of every stage from records read to examples used; reported in the summary and the model file.
public struct DataCounts: Sendable, Equatable {
    public var featureRecords = 0
    public var badFeatureRecords = 0
    public var duplicateFeatureRecords = 0
    /// Distinct transactions with a feature record.
    public var transactions = 0
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

    public init() {}
}
