extension DetectionReport {
    /// The report as an aligned table, one line per pattern and one for all fraud, then the false alerts and what was
    /// not decided, each line starting with `indent`:
    ///
    ///     pattern               frauds  review  block  missed  recall  not decided
    ///     card_testing             412     120    250      42  89.9 %            0
    ///     ...
    ///     false alerts     31 of 38400 genuine payments decided: 0.76 per 1,000 decided, 0.81 per 1,000 genuine
    ///     not decided      15 late, 0 dead-lettered, 230 with no outcome read back (3 of them fraud)
    ///     no truth         39 dead-lettered with no ground truth (malformed input, or a second outcome for a transaction)
    ///
    /// The last line only when some outcome matched no ground truth.
    /// Recall is of the decided frauds; "-" when the pattern had none decided.
    public func tableLines(indent: String = "  ") -> [String] {
        let header = ["pattern", "frauds", "review", "block", "missed", "recall", "not decided"]
        func cells(_ name: String, _ row: Row) -> [String] {
            [name, "\(row.transactions)", "\(row.reviewed)", "\(row.blocked)", "\(row.approved)",
             row.alertShare.map { Self.fixed($0 * 100, digits: 1) + " %" } ?? "-", "\(row.undecided)"]
        }
        let rows = [header] + patterns.map { cells($0.pattern.rawValue, $0.row) } + [cells("all fraud", fraud)]
        let widths = header.indices.map { column in rows.map { $0[column].count }.max()! }
        var lines = rows.map { row in
            let name = row[0] + String(repeating: " ", count: widths[0] - row[0].count)
            let numbers = row.indices.dropFirst().map { column in
                String(repeating: " ", count: widths[column] - row[column].count) + row[column]
            }
            return indent + ([name] + numbers).joined(separator: "  ")
        }
        let perDecided = falseAlertsPerThousandDecided.map { Self.fixed($0, digits: 2) } ?? "-"
        let perGenuine = falseAlertsPerThousandGenuine.map { Self.fixed($0, digits: 2) } ?? "-"
        lines.append(
            indent + "false alerts     \(genuine.alerted) of \(genuine.decided) genuine payments decided: "
                + "\(perDecided) per 1,000 decided, \(perGenuine) per 1,000 genuine")
        let undecided = all
        var notDecided = indent + "not decided      \(undecided.late) late, \(undecided.deadLettered) dead-lettered, "
            + "\(undecided.notReadBack) with no outcome read back (\(fraud.undecided) of them fraud)"
        lines.append(notDecided)
        if unmatched.transactions > 0 {
            let kinds = [
                (unmatched.approved, "approved"), (unmatched.reviewed, "reviewed"), (unmatched.blocked, "blocked"),
                (unmatched.late, "late"), (unmatched.deadLettered, "dead-lettered"),
            ]
            lines.append(
                indent + "no truth         "
                    + kinds.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
                    + " with no ground truth (malformed input, or a second outcome for a transaction)")
        }
        return lines
    }

    /// `value` (not negative) with `digits` decimals, rounded half up.
    static func fixed(_ value: Double, digits: Int) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * Double(scale)).rounded())
        guard digits > 0 else { return "\(scaled)" }
        let fraction = "\(scaled % scale)"
        return "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
