/// The first pass of the merchant-risk job: which transactions are fraud as of the cut, by the labels reported
/// before it (docs/merchant-risk.md, "Bounded memory").
///
/// A transaction labelled more than once takes its latest label reported before the cut (at equal report times a
/// fraud label wins, as in `LabelBook`), whatever order the labels are read in: while reading, the latest label of
/// every labelled transaction is kept (64-bit id hash, report time, verdict); `fraudIds()` then keeps only the fraud
/// ones. Labels reported at or after the cut are counted and never looked at again. Pure.
public struct MerchantRiskLabels: Sendable {
    public let cut: MerchantRiskCut
    /// Records of the current source (see `takeTally`).
    public private(set) var tally = RecordTally()
    /// Labels reported at or after the cut: not used, whatever their transaction's date.
    public private(set) var reportedAtOrAfterCut = 0
    /// Labels that repeated an earlier label's transaction (reported before the cut).
    public private(set) var relabelled = 0

    struct Latest: Sendable {
        var reportedAtMs: Int64
        var isFraud: Bool
    }
    var latest: [UInt64: Latest] = [:]

    /// The tally of the records added since the last call, which starts a new one (one tally per source).
    public mutating func takeTally() -> RecordTally {
        defer { tally = RecordTally() }
        return tally
    }

    public init(cut: MerchantRiskCut) {
        self.cut = cut
    }

    /// Parses and records one label message; a bad one is counted by reason and skipped.
    public mutating func add(_ record: RawRecord) {
        tally.read += 1
        guard !record.isTruncated else { return tally.reject(.tooLong(limit: record.bytes.count), at: record.location) }
        let parsed: Result<LabelRecord, RecordError> = {
            do throws(RecordError) { return .success(try LabelRecord.parse(record.bytes)) } catch { return .failure(error) }
        }()
        switch parsed {
        case .failure(let error):
            tally.reject(error, at: record.location)
        case .success(let label):
            guard let reported = label.reportedAtMs else {
                return tally.reject(.missingField("reported_at_ms"), at: record.location)
            }
            tally.accepted += 1
            add(idHash: MerchantTransaction.idHash(label.transactionId), isFraud: label.isFraud, reportedAtMs: reported)
        }
    }

    /// Records one label of the transaction whose id hashes to `idHash`.
    public mutating func add(idHash: UInt64, isFraud: Bool, reportedAtMs reported: Int64) {
        guard cut.counts(labelReportedAtMs: reported) else {
            reportedAtOrAfterCut += 1
            return
        }
        if let old = latest[idHash] {
            relabelled += 1
            guard reported > old.reportedAtMs || (reported == old.reportedAtMs && isFraud) else { return }
        }
        latest[idHash] = Latest(reportedAtMs: reported, isFraud: isFraud)
    }

    /// Distinct transactions with a label reported before the cut.
    public var labelledTransactions: Int { latest.count }

    /// The transactions whose latest label before the cut says fraud, as 64-bit id hashes.
    public consuming func fraudIds() -> Set<UInt64> {
        var ids = Set<UInt64>(minimumCapacity: latest.count / 2)
        for (id, label) in latest where label.isFraud { ids.insert(id) }
        return ids
    }
}
