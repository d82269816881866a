import VigilCore

/// The merchant-risk batch job as a library (`vigil merchant-risk`, docs/merchant-risk.md): labels first, then
/// transaction-bearing records, into a `MerchantRiskSnapshot` as of a cut. Reading goes through `HistorySource`;
/// everything else is pure. Bad records are counted by reason per source, with the first locations, and never stop
/// the run.
public struct MerchantRiskJob: Sendable {
    public var cut: MerchantRiskCut

    public init(cut: MerchantRiskCut) {
        self.cut = cut
    }

    public func run(
        transactions: [any HistorySource], labels: [any HistorySource],
        progress: (MerchantRiskProgress) -> Void = { _ in }
    ) throws -> MerchantRiskOutcome {
        var report = MerchantRiskReport(cut: cut)

        progress(.stage("reading labels"))
        var book = MerchantRiskLabels(cut: cut)
        for source in labels {
            let summary = try source.read({ book.add($0) }, progress: { progress(.reading("labels", $0)) })
            report.labelSources.append(.init(summary: summary, tally: book.takeTally()))
        }
        report.labelsReportedAtOrAfterCut = book.reportedAtOrAfterCut
        report.labelledTransactions = book.labelledTransactions
        report.relabelled = book.relabelled
        let fraud = (consume book).fraudIds()
        report.fraudLabels = fraud.count

        progress(.stage("reading transactions"))
        var builder = MerchantRiskBuilder(cut: cut, fraudIds: fraud)
        for source in transactions {
            let summary = try source.read({ builder.add($0) }, progress: { progress(.reading("transactions", $0)) })
            report.transactionSources.append(.init(summary: summary, tally: builder.takeTally()))
        }
        report.duplicates = builder.duplicates
        report.outsideWindow = builder.outsideWindow
        report.transactionsCounted = builder.transactionsCounted
        report.fraudCounted = builder.fraudCounted
        report.tableBytes = builder.approximateBytes

        progress(.stage("building the snapshot"))
        let snapshot = (consume builder).snapshot()
        report.merchants = snapshot.merchants.count
        return MerchantRiskOutcome(snapshot: snapshot, report: report)
    }
}

public enum MerchantRiskProgress: Sendable {
    case stage(String)
    /// Which input ("labels", "transactions") and how far.
    case reading(String, ReadProgress)
}

public struct MerchantRiskOutcome: Sendable {
    public var snapshot: MerchantRiskSnapshot
    public var report: MerchantRiskReport
}

/// What a run read, used and skipped.
public struct MerchantRiskReport: Sendable, Equatable {
    public struct Source: Sendable, Equatable {
        public var summary: SourceSummary
        public var tally: RecordTally
    }

    public var cut: MerchantRiskCut
    public var labelSources: [Source] = []
    public var transactionSources: [Source] = []
    public var labelsReportedAtOrAfterCut = 0
    public var labelledTransactions = 0
    public var relabelled = 0
    /// Transactions whose latest label before the cut is fraud.
    public var fraudLabels = 0
    public var duplicates = 0
    public var outsideWindow = 0
    public var transactionsCounted = 0
    /// Counted transactions that are fraud (the fraud labels that found their transaction in the window).
    public var fraudCounted = 0
    public var merchants = 0
    /// Approximate bytes of the in-memory tables at their largest (id set, fraud set, merchants).
    public var tableBytes = 0

    public init(cut: MerchantRiskCut) {
        self.cut = cut
    }

    public var badRecords: Int {
        (labelSources + transactionSources).reduce(0) { $0 + $1.tally.badCount }
    }
}
