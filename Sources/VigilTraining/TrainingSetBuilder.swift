import VigilCore

/// Collects feature records, de-duplicated and joined with their labels, in compact rows (16 Float32 values,
/// time, key, status: about 90 bytes per transaction), and turns them into a `TrainingSet`.
///
/// Labels must be read first: the join happens as feature records arrive. Pure: it takes bytes and values.
public struct TrainingSetBuilder: Sendable {
    public let options: TrainingOptions
    public private(set) var labels: LabelBook
    public private(set) var featureTally = RecordTally()
    /// Feature records of a transaction already seen (at-least-once redelivery); the first one is kept.
    public private(set) var duplicates = 0

    var seen: Set<TransactionKey> = []
    var raw: [Float] = []
    var times: [Int64] = []
    var keys: [TransactionKey] = []
    var status: [RowStatus] = []

    public init(options: TrainingOptions, labels: LabelBook) {
        self.options = options
        self.labels = labels
    }

    /// Number of distinct transactions kept so far.
    public var count: Int { times.count }

    /// Parses and adds one feature message; a bad one is counted and skipped.
    public mutating func add(_ record: RawRecord) {
        featureTally.read += 1
        guard !record.isTruncated else { return featureTally.reject(.tooLong(limit: record.bytes.count), at: record.location) }
        do throws(RecordError) {
            let parsed = try FeatureRecord.parse(record.bytes)
            featureTally.accepted += 1
            add(parsed)
        } catch {
            featureTally.reject(error, at: record.location)
        }
    }

    /// Adds one parsed feature record (ignored if its transaction was seen before).
    public mutating func add(_ record: FeatureRecord) {
        let key = TransactionKey(record.transactionId)
        guard seen.insert(key).inserted else {
            duplicates += 1
            return
        }
        let label = labels.take(key)
        var s = RowStatus(label: label)
        if record.verdict == .block { s.insert(.blocked) }
        for slot in 0..<Feature.count { raw.append(Float(record.features.values[slot])) }
        times.append(record.eventTimeMs)
        keys.append(key)
        status.append(s)
    }

    /// Applies label maturity and the blocked policy, sorts by event time and splits: the newest
    /// `validationFraction` of the examples are for validation.
    public consuming func build() throws(TrainingError) -> TrainingSet {
        guard let newest = times.max(), let oldest = times.min() else { throw .noData }
        let maturityMs = Int64((options.maturityDays * 86_400_000).rounded())
        let cutoff = newest - maturityMs
        var counts = DataCounts()
        counts.featureRecords = featureTally.read
        counts.badFeatureRecords = featureTally.badCount
        counts.duplicateFeatureRecords = duplicates
        counts.transactions = times.count
        counts.labelRecords = labels.tally.read
        counts.badLabelRecords = labels.tally.badCount
        counts.relabelled = labels.relabelled
        counts.labelsForUnknownTransactions = labels.unmatchedCount
        counts.labelledTransactions = labels.count - counts.labelsForUnknownTransactions

        // Decide each row's use.
        var example = [Int8](repeating: -1, count: times.count)  // -1 not an example, else the label
        for i in 0..<times.count {
            let s = status[i]
            if s.contains(.positive) {
                example[i] = 1
            } else if s.contains(.negative) {
                example[i] = 0
            } else if s.contains(.blocked) && options.blockedUnlabelled == .exclude {
                counts.excludedBlockedUnlabelled += 1
            } else if times[i] > cutoff {
                counts.excludedImmature += 1
            } else {
                example[i] = 0
                counts.unlabelledNegatives += 1
            }
            if s.contains(.blocked) { counts.blocked += 1 }
        }

        // Time order; ties broken by key, so the order does not depend on the order records were read in.
        var order = Array(0..<Int32(times.count))
        order.sort { a, b in
            let ta = times[Int(a)], tb = times[Int(b)]
            return ta != tb ? ta < tb : keys[Int(a)] < keys[Int(b)]
        }
        let exampleCount = example.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
        guard exampleCount >= 2 else { throw .tooFewExamples(exampleCount) }
        let validationCount = min(exampleCount - 1, max(1, Int((Double(exampleCount) * options.validationFraction).rounded())))
        let trainCount = exampleCount - validationCount

        var set = TrainingSet()
        set.firstEventMs = oldest
        set.lastEventMs = newest
        set.maturityCutoffMs = cutoff
        set.train.reserveCapacity(trainCount)
        var examplesSeen = 0
        for index in order {
            let i = Int(index)
            let label = example[i]
            let inValidation = examplesSeen >= trainCount
            if label >= 0 { examplesSeen += 1 }
            if !inValidation {
                guard label >= 0 else { continue }
                set.train.append(raw[(i * Feature.count)..<((i + 1) * Feature.count)], label: UInt8(label), time: times[i])
            } else {
                if set.validationStartMs == nil { set.validationStartMs = times[i] }
                set.validation.append(raw[(i * Feature.count)..<((i + 1) * Feature.count)], label: label >= 0 ? UInt8(label) : ExampleSlice.unlabelled, time: times[i])
            }
        }
        counts.trainExamples = set.train.count
        counts.trainPositives = set.train.positives
        counts.validationExamples = set.validation.examples
        counts.validationPositives = set.validation.positives
        counts.validationTraffic = set.validation.count
        counts.positives = counts.trainPositives + counts.validationPositives
        counts.negatives = exampleCount - counts.positives
        set.counts = counts
        return set
    }
}

/// What is known about one stored transaction.
struct RowStatus: OptionSet, Sendable {
    let rawValue: UInt8
    static let positive = RowStatus(rawValue: 1)
    static let negative = RowStatus(rawValue: 2)
    static let blocked = RowStatus(rawValue: 4)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    init(label: Bool?) {
        switch label {
        case true?: self = .positive
        case false?: self = .negative
        case nil: self = []
        }
    }
}

/// Why no model could be trained.
public enum TrainingError: Error, Equatable, Sendable, CustomStringConvertible {
    case noData
    case tooFewExamples(Int)
    case oneClassOnly(positives: Int, negatives: Int)
    case invalidModel(String)

    public var description: String {
        switch self {
        case .noData: "no usable feature records"
        case .tooFewExamples(let n): "only \(n) usable examples (labelled, or unlabelled and older than the maturity window); need at least 2"
        case .oneClassOnly(let p, let n): "the training slice needs both classes, it has \(p) positives and \(n) negatives"
        case .invalidModel(let why): "the fitted model is not a valid model file: \(why)"
        }
    }
}
