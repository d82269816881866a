import VigilCore

/// The second pass of the merchant-risk job: counts transactions per merchant in the snapshot's windows, joined with
/// the fraud ids of the first pass (docs/merchant-risk.md).
///
/// Memory is fixed-size entries only: per merchant its id and six counters, per transaction in the widest window its
/// 64-bit id hash (to count an at-least-once redelivery once). Transactions outside the window cost nothing. Pure.
public struct MerchantRiskBuilder: Sendable {
    public let cut: MerchantRiskCut
    /// Records of the current source (see `takeTally`).
    public private(set) var tally = RecordTally()
    /// Records of a transaction already counted (same `transaction_id`; the first one in the window counts).
    public private(set) var duplicates = 0
    /// Well-formed records outside `[T - D - 30 d, T - D)`.
    public private(set) var outsideWindow = 0
    /// Transactions counted that are fraud.
    public private(set) var fraudCounted = 0

    let fraud: Set<UInt64>
    var seen = MerchantRiskIdSet()
    var merchantIndex: [String: Int32] = [:]
    var counts: [MerchantRiskCounts] = []

    /// The tally of the records added since the last call, which starts a new one (one tally per source).
    public mutating func takeTally() -> RecordTally {
        defer { tally = RecordTally() }
        return tally
    }

    public init(cut: MerchantRiskCut, fraudIds: Set<UInt64>) {
        self.cut = cut
        self.fraud = fraudIds
    }

    /// Transactions counted (distinct ids in the widest window).
    public var transactionsCounted: Int { seen.count }
    public var merchantCount: Int { counts.count }
    /// Fraud ids the first pass found.
    public var fraudLabels: Int { fraud.count }

    /// Parses and counts one transaction-bearing record; a bad one is counted by reason and skipped.
    public mutating func add(_ record: RawRecord) {
        tally.read += 1
        guard !record.isTruncated else { return tally.reject(.tooLong(limit: record.bytes.count), at: record.location) }
        let parsed: Result<MerchantTransaction, RecordError> = {
            do throws(RecordError) { return .success(try MerchantTransaction.parse(record.bytes)) } catch { return .failure(error) }
        }()
        switch parsed {
        case .failure(let error): tally.reject(error, at: record.location)
        case .success(let transaction):
            tally.accepted += 1
            add(transaction)
        }
    }

    public mutating func add(_ transaction: MerchantTransaction) {
        guard cut.isInWindow(transaction.eventTimeMs) else {
            outsideWindow += 1
            return
        }
        guard seen.insert(transaction.idHash) else {
            duplicates += 1
            return
        }
        let isFraud = fraud.contains(transaction.idHash)
        if isFraud { fraudCounted += 1 }
        let added = cut.contribution(eventTimeMs: transaction.eventTimeMs, isFraud: isFraud)
        if let index = merchantIndex[transaction.merchantId] {
            counts[Int(index)] = counts[Int(index)] + added
        } else {
            merchantIndex[transaction.merchantId] = Int32(counts.count)
            counts.append(added)
        }
    }

    /// Approximate bytes held in the de-duplication set and the merchant table, for the report.
    public var approximateBytes: Int {
        seen.bytes + fraud.capacity * 8 + merchantIndex.capacity * 24 + counts.capacity * 48
    }

    /// The snapshot: merchants in byte order of their ids, the totals, and its version.
    public consuming func snapshot() -> MerchantRiskSnapshot {
        seen = MerchantRiskIdSet()  // free the id set before sorting
        var entries = merchantIndex.map { (merchantId: $0.key, counts: counts[Int($0.value)]) }
        merchantIndex = [:]
        counts = []
        entries.sort { $0.merchantId.utf8.lexicographicallyPrecedes($1.merchantId.utf8) }
        return MerchantRiskSnapshot(cut: cut, merchants: entries)
    }
}
