import VigilCore

extension MerchantRiskReport {
    /// The human-readable report of a run (stdout of `vigil merchant-risk`).
    public func summary(snapshot: MerchantRiskSnapshot) -> String {
        var lines: [String] = []
        lines.append("Merchant risk \(snapshot.version)")
        lines.append("")
        lines.append("  cut          \(UTCTime.iso(cut.cutMs)) (labels reported before it count)")
        lines.append("  label delay  \(Double(cut.labelDelayMs) / 86_400_000) days: transactions in [\(UTCTime.iso(cut.windowStartMs)), \(UTCTime.iso(cut.windowEndMs)))")
        for source in labelSources { lines.append(contentsOf: Self.describe("labels", source)) }
        for source in transactionSources { lines.append(contentsOf: Self.describe("transactions", source)) }
        lines.append("  label use    \(grouped(Int(labelledTransactions))) labelled transactions before the cut (\(grouped(Int(relabelled))) relabels), "
            + "\(grouped(Int(fraudLabels))) fraud; \(grouped(Int(labelsReportedAtOrAfterCut))) labels reported at or after the cut not used")
        lines.append("  counted      \(grouped(Int(transactionsCounted))) transactions (\(grouped(Int(fraudCounted))) fraud) at \(grouped(Int(merchants))) merchants; "
            + "\(grouped(Int(duplicates))) duplicates, \(grouped(Int(outsideWindow))) outside the window")
        let t = snapshot.totals
        lines.append("  totals       tx 1d/7d/30d \(grouped(Int(t.transactions1d)))/\(grouped(Int(t.transactions7d)))/\(grouped(Int(t.transactions30d))), "
            + "fraud \(grouped(Int(t.frauds1d)))/\(grouped(Int(t.frauds7d)))/\(grouped(Int(t.frauds30d)))")
        lines.append("  tables       about \(tableBytes / 1_000_000) MB (id set, fraud set, merchants)")
        if badRecords > 0 { lines.append("  WARNING      \(grouped(Int(badRecords))) bad records skipped (above, by reason)") }
        return lines.joined(separator: "\n")
    }

    static func describe(_ what: String, _ source: Source) -> [String] {
        var lines = ["  \(what.padding(12)) \(source.summary.description): \(grouped(Int(source.tally.read))) records, \(grouped(Int(source.tally.badCount))) bad"]
        for (reason, n) in source.tally.bad.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            lines.append("               \(grouped(Int(n))) \(reason)")
        }
        for example in source.tally.examples { lines.append("               e.g. \(source.summary.description) \(example)") }
        return lines
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
