/// The labels read so far, by transaction, for the join with feature records.
///
/// A transaction may be labelled more than once (a chargeback later reversed, a case reopened): the label
/// reported last wins; at equal report times a fraud label wins.
public struct LabelBook: Sendable {
    struct Entry: Sendable {
        var isFraud: Bool
        var reportedAtMs: Int64
        var matched: Bool
    }

    var entries: [TransactionKey: Entry] = [:]
    public private(set) var tally = RecordTally()
    /// Labels that repeated an earlier label's transaction.
    public private(set) var relabelled = 0

    public init() {}

    /// Number of distinct labelled transactions.
    public var count: Int { entries.count }

    /// Labels whose transaction has no feature record (so far).
    public var unmatchedCount: Int { entries.values.reduce(0) { $0 + ($1.matched ? 0 : 1) } }

    /// Parses and records one label message; a bad one is counted and skipped.
    public mutating func add(_ record: RawRecord) {
        tally.read += 1
        guard !record.isTruncated else { return tally.reject(.tooLong(limit: record.bytes.count), at: record.location) }
        do throws(RecordError) {
            add(try LabelRecord.parse(record.bytes))
            tally.accepted += 1
        } catch {
            tally.reject(error, at: record.location)
        }
    }

    public mutating func add(_ label: LabelRecord) {
        let key = TransactionKey(label.transactionId)
        let reported = label.reportedAtMs ?? Int64.min
        if let old = entries[key] {
            relabelled += 1
            guard reported > old.reportedAtMs || (reported == old.reportedAtMs && label.isFraud) else { return }
        }
        entries[key] = Entry(isFraud: label.isFraud, reportedAtMs: reported, matched: false)
    }

    /// The label of a transaction, marking it as joined; nil when unlabelled.
    mutating func take(_ key: TransactionKey) -> Bool? {
        guard let index = entries.index(forKey: key) else { return nil }
        entries.values[index].matched = true
        return entries.values[index].isFraud
    }
}
