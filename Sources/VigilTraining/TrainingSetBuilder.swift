import VigilCore

/// Collects feature records, de-duplicated and joined with their labels, in compact rows (a Float32 per catalog
/// feature, time, key, status, catalog and pattern: about 90 bytes per transaction with 16 features), and turns them
/// into a `TrainingSet` on the catalog the records carry (`TrainingOptions.catalog`).
///
/// Labels must be read first: the join happens as feature records arrive. Pure: it takes bytes and values.
public struct TrainingSetBuilder: Sendable {
    public let options: TrainingOptions
    public private(set) var labels: LabelBook
    public private(set) var featureTally = RecordTally()
    /// Feature records of a transaction already seen (at-least-once redelivery); the first one is kept.
    public private(set) var duplicates = 0

    /// Records of catalog v1 and v2 kept (distinct transactions).
    public private(set) var catalogCounts: [Int: Int] = [:]

    /// Keys of the rows kept (sampled-out transactions need none, see `add`).
    var seen: Set<TransactionKey> = []
    var threshold = SampleThreshold()
    /// Unlabelled, unblocked records offered to the sample, and the rows of them held now.
    var offered = 0
    var sampledRows = 0
    var raw: [Float] = []
    var times: [Int64] = []
    var keys: [TransactionKey] = []
    var status: [RowStatus] = []
    var catalogs: [UInt8] = []
    var patterns: [UInt8] = []
    let truth: PatternTruth?

    public init(options: TrainingOptions, labels: LabelBook, truth: PatternTruth? = nil) {
        self.options = options
        self.labels = labels
        self.truth = truth
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

    /// Adds one parsed feature record (ignored if its transaction was seen before). An unlabelled, unblocked one
    /// is kept only if the negative sample keeps its hash (`NegativeSample`).
    public mutating func add(_ record: FeatureRecord) {
        let key = TransactionKey(record.transactionId)
        guard !seen.contains(key) else {
            duplicates += 1
            return
        }
        let label = labels.take(key)
        var s = RowStatus(label: label)
        if record.verdict == .block { s.insert(.blocked) }
        if s.isEmpty {
            offered += 1
            guard threshold.keeps(key.low) else {
                // Sampled out; a later copy gets the same decision (the bound only goes down), so it needs no entry in `seen`.
                catalogCounts[record.catalogVersion, default: 0] += 1
                return
            }
            s.insert(.sampled)
            sampledRows += 1
        }
        seen.insert(key)
        for slot in 0..<Feature.count { raw.append(Float(record.features.values[slot])) }
        times.append(record.eventTimeMs)
        keys.append(key)
        status.append(s)
        catalogs.append(UInt8(record.catalogVersion))
        catalogCounts[record.catalogVersion, default: 0] += 1
        if let truth { patterns.append(truth.pattern(of: key)) }
        if sampledRows > sampleSlack { lowerThreshold() }
    }

    /// Sampled rows held before the threshold is lowered back to the budget: half the budget again, so that
    /// lowering (a sort of the held hashes) happens a logarithmic number of times over a history.
    var sampleSlack: Int { let b = options.maxSampledTransactions; return b > Int.max / 2 ? Int.max : b + max(b / 2, 1) }

    /// Lowers the sampling threshold so that `maxSampledTransactions` sampled rows stay, and drops the others.
    mutating func lowerThreshold() {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(sampledRows)
        for i in 0..<times.count where status[i].contains(.sampled) { hashes.append(keys[i].low) }
        threshold.lower(toKeep: options.maxSampledTransactions, of: hashes)
        hashes = []
        var keep = [Bool](repeating: true, count: times.count)
        for i in 0..<times.count where status[i].contains(.sampled) && !threshold.keeps(keys[i].low) {
            keep[i] = false
            seen.remove(keys[i])
        }
        retainRows(keep)
        sampledRows = status.reduce(0) { $0 + ($1.contains(.sampled) ? 1 : 0) }
    }

    /// Keeps the rows `keep` says yes to, in order (capacity is kept for the rows still to come).
    mutating func retainRows(_ keep: [Bool]) {
        var kept = 0
        for i in 0..<times.count where keep[i] {
            if kept != i {
                for slot in 0..<Feature.count { raw[kept * Feature.count + slot] = raw[i * Feature.count + slot] }
                times[kept] = times[i]
                keys[kept] = keys[i]
                status[kept] = status[i]
                catalogs[kept] = catalogs[i]
                if !patterns.isEmpty { patterns[kept] = patterns[i] }
            }
            kept += 1
        }
        raw.removeLast(raw.count - kept * Feature.count)
        for n in [times.count - kept] where n > 0 {
            times.removeLast(n); keys.removeLast(n); status.removeLast(n); catalogs.removeLast(n)
            if !patterns.isEmpty { patterns.removeLast(n) }
        }
    }

    /// The sample so far, nil while every unlabelled transaction is kept. While reading, up to 1.5 x the budget are
    /// held; `build()` lowers the threshold to the budget, and `TrainingSet.counts.sample` is the final sample.
    public var sample: NegativeSample? {
        guard threshold.lowered || sampledRows > options.maxSampledTransactions else { return nil }
        return NegativeSample(budget: options.maxSampledTransactions, offered: offered, kept: sampledRows, rate: threshold.rate)
    }

    /// The catalog to fit on, and whether rows of catalog v1 are left out.
    func chooseCatalog() -> (catalog: FeatureCatalog, keepV1: Bool, note: String?) {
        let v1 = catalogCounts[1] ?? 0, v2 = catalogCounts[2] ?? 0
        switch options.catalog {
        case .v1: return (.v1, true, nil)
        case .v2: return (.v2, false, v1 > 0 ? "\(v1) transactions of catalog v1 left out (--catalog 2)" : nil)
        case .auto:
            if v1 == 0 { return (.v2, false, nil) }
            return (.v1, true, v2 > 0
                ? "the history mixes catalogs (\(v1) transactions of v1, \(v2) of v2): fitted on the v1 features; --catalog 2 fits on the v2 records only"
                : nil)
        }
    }

    /// Applies label maturity and the blocked policy, sorts by event time and splits: the newest
    /// `validationFraction` of the examples are for validation.
    public consuming func build() throws(TrainingError) -> TrainingSet {
        let (catalog, keepV1, note) = chooseCatalog()
        if sampledRows > options.maxSampledTransactions { lowerThreshold() }
        let sample = self.sample
        let sampledWeight = Float(sample?.weight ?? 1)
        // Left out entirely: neither examples nor validation traffic.
        if !keepV1 { retainRows(catalogs.map { $0 != 1 }) }
        guard let newest = times.max(), let oldest = times.min() else { throw .noData }
        let maturityMs = Int64((options.maturityDays * 86_400_000).rounded())
        let cutoff = newest - maturityMs
        var counts = DataCounts()
        counts.featureRecords = featureTally.read
        counts.badFeatureRecords = featureTally.badCount
        counts.duplicateFeatureRecords = duplicates
        counts.transactions = catalogCounts.values.reduce(0, +)
        counts.catalogV1Transactions = catalogCounts[1] ?? 0
        counts.catalogV2Transactions = catalogCounts[2] ?? 0
        counts.excludedByCatalog = keepV1 ? 0 : counts.catalogV1Transactions
        counts.labelRecords = labels.tally.read
        counts.badLabelRecords = labels.tally.badCount
        counts.relabelled = labels.relabelled
        counts.labelsForUnknownTransactions = labels.unmatchedCount
        counts.labelledTransactions = labels.count - counts.labelsForUnknownTransactions
        counts.sample = sample

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
        func weight(_ i: Int) -> Float { status[i].contains(.sampled) ? sampledWeight : 1 }
        // The newest `validationFraction` of the examples by weight: of the transactions the sample stands for.
        let trainWeight: Double
        if sample == nil {
            let validationCount = min(exampleCount - 1, max(1, Int((Double(exampleCount) * options.validationFraction).rounded())))
            trainWeight = Double(exampleCount - validationCount)
        } else {
            let total = (0..<times.count).reduce(0.0) { $0 + (example[$1] >= 0 ? Double(weight($1)) : 0) }
            trainWeight = total * (1 - options.validationFraction)
        }

        let columns = catalog.features.map(\.rawValue)
        func row(_ i: Int) -> [Float] { columns.map { raw[i * Feature.count + $0] } }
        var set = TrainingSet()
        set.catalog = catalog
        set.notes = note.map { [$0] } ?? []
        set.patternNames = truth?.names ?? []
        set.train = ExampleSlice(columns: Array(catalog.features))
        set.validation = ExampleSlice(columns: Array(catalog.features))
        set.firstEventMs = oldest
        set.lastEventMs = newest
        set.maturityCutoffMs = cutoff
        set.train.reserveCapacity(Int(Double(exampleCount) * (1 - options.validationFraction)))
        var examplesSeen = 0.0
        for index in order {
            let i = Int(index)
            let label = example[i]
            let inValidation = examplesSeen >= trainWeight
            if label >= 0 { examplesSeen += Double(weight(i)) }
            if !inValidation {
                guard label >= 0 else { continue }
                set.train.append(row(i), label: UInt8(label), time: times[i], pattern: patterns.isEmpty ? 0 : patterns[i], weight: weight(i))
            } else {
                if set.validationStartMs == nil { set.validationStartMs = times[i] }
                set.validation.append(row(i), label: label >= 0 ? UInt8(label) : ExampleSlice.unlabelled, time: times[i],
                                      pattern: patterns.isEmpty ? 0 : patterns[i], weight: weight(i))
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
    /// Unlabelled and unblocked, kept by the negative sample (weight `1 / rate` once the sample is lowered).
    static let sampled = RowStatus(rawValue: 8)

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
