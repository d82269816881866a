extension TrainingOutcome {
    /// The human summary printed at the end of a run: data, fit, both models side by side, the decision.
    public func summary() -> String {
        let c = counts
        var lines: [String] = []
        lines.append("Candidate \(model.version)")
        lines.append("")
        lines.append("Data")
        lines.append("  features    \(featureSource.description)")
        lines.append("              \(grouped(featureTally.read)) records, \(grouped(featureTally.badCount)) bad, \(grouped(c.duplicateFeatureRecords)) duplicates, \(grouped(c.transactions)) transactions (\(grouped(c.blocked)) blocked)")
        lines.append(contentsOf: badLines(featureTally))
        lines.append("  labels      \(labelSource.description)")
        lines.append("              \(grouped(labelTally.read)) records, \(grouped(labelTally.badCount)) bad, \(grouped(c.labelledTransactions)) joined, \(grouped(c.labelsForUnknownTransactions)) for unknown transactions, \(grouped(c.relabelled)) relabels")
        lines.append(contentsOf: badLines(labelTally))
        lines.append("  catalog     v\(catalog.rawValue), \(catalog.count) features; \(grouped(c.catalogV1Transactions)) transactions of catalog v1, \(grouped(c.catalogV2Transactions)) of v2"
            + (c.excludedByCatalog > 0 ? ", \(grouped(c.excludedByCatalog)) left out" : ""))
        if let truthSource, let truthTally {
            lines.append("  truth       \(truthSource.description)")
            lines.append("              \(grouped(truthTally.read)) records, \(grouped(truthTally.badCount)) bad")
            lines.append(contentsOf: badLines(truthTally))
        }
        lines.append("  input hash  sha256:\(inputSHA256)")
        lines.append("  event time  \(UTCTime.iso(firstEventMs)) .. \(UTCTime.iso(lastEventMs))")
        lines.append("  maturity    unlabelled after \(UTCTime.iso(maturityCutoffMs)) not used: \(grouped(c.excludedImmature)); blocked unlabelled excluded: \(grouped(c.excludedBlockedUnlabelled))")
        lines.append("  examples    \(grouped(c.positives)) fraud, \(grouped(c.negatives)) legitimate (\(grouped(c.unlabelledNegatives)) of them unlabelled and mature)")
        if let sample = c.sample {
            lines.append("  sample      unlabelled transactions kept by hash of id: \(grouped(sample.kept)) of \(grouped(sample.offered)) (rate \(fixed(sample.rate * 100, 3))%, --max-examples \(grouped(sample.budget))), each weighted \(fixed(sample.weight, 3)) in the fit, the split and every validation figure; fraud, labelled and blocked transactions all kept, weight 1")
        } else {
            lines.append("  sample      none: all \(grouped(c.transactions)) transactions kept (at most \(grouped(options.maxSampledTransactions)) unlabelled ones are, --max-examples)")
        }
        lines.append("  train       \(grouped(c.trainExamples)) examples, \(grouped(c.trainPositives)) fraud, before \(validationStartMs.map(UTCTime.iso) ?? "-")")
        lines.append("  validation  \(grouped(c.validationExamples)) examples, \(grouped(c.validationPositives)) fraud; \(grouped(c.validationTraffic)) transactions in the period")
        lines.append("")
        let fit = result.fit
        lines.append("Fit         \(fit.iterations) Newton iterations, \(fit.converged ? "converged" : "NOT converged"), objective \(fixed(fit.objective, 3)), class weights \(fixed(fit.classWeights.negative, 3)) / \(fixed(fit.classWeights.positive, 2))")
        lines.append("")
        if let selection = transformSelection {
            lines.append(contentsOf: transformLines(selection))
            lines.append("")
        }
        let candidate = result.candidate
        let current = result.current
        lines.append(row("validation", candidate.version, current?.version ?? "(none)"))
        lines.append(row("ROC AUC", number(candidate.rocAUC), number(current?.rocAUC)))
        lines.append(row("PR AUC", number(candidate.prAUC), number(current?.prAUC)))
        lines.append(row("review threshold", fixed(candidate.review.threshold, 4), current.map { fixed($0.review.threshold, 4) } ?? "-"))
        lines.append(row("  precision", percent(candidate.review.precision), percent(current?.review.precision)))
        lines.append(row("  recall", percent(candidate.review.recall), percent(current?.review.recall)))
        lines.append(row("  alert rate", percent(candidate.alertRate), percent(current?.alertRate)))
        lines.append(row("block threshold", fixed(candidate.block.threshold, 4), current.map { fixed($0.block.threshold, 4) } ?? "-"))
        lines.append(row("  precision", percent(candidate.block.precision), percent(current?.block.precision)))
        lines.append(row("  recall", percent(candidate.block.recall), percent(current?.block.recall)))
        lines.append(row("  block rate", percent(candidate.block.rate), percent(current?.block.rate)))
        lines.append("")
        if !result.patterns.isEmpty {
            lines.append(contentsOf: patternTable(result.patterns))
            lines.append("")
        }
        if !result.promotion.checks.isEmpty {
            lines.append("gate (validation slice, candidate against the serving model)")
            for check in result.promotion.checks {
                lines.append("  \(check.passed ? "pass" : "FAIL")  \(check.condition.rawValue): \(check.detail)")
            }
            lines.append("")
        }
        lines.append((result.promotion.promoted ? "PROMOTED: " : "NOT PROMOTED: ") + result.promotion.reason)
        if !result.warnings.isEmpty {
            lines.append("")
            lines.append("Warnings")
            for warning in result.warnings { lines.append("  - \(warning)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Recall per pattern at each model's own thresholds; for `none` the same shares are false alarms.
    private func patternTable(_ patterns: [PatternRecall]) -> [String] {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        func left(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
        let name = max(24, (patterns.map(\.pattern.count).max() ?? 0) + 2)
        var lines = ["recall by pattern (ground truth; every validation-period transaction of the pattern, labelled or not)",
                     "  " + pad("", name + 14) + pad("reviewed or blocked", 20) + "blocked",
                     "  " + pad("pattern", name) + left("transactions", 12) + "  " + pad("candidate", 10) + pad("current", 10)
                        + pad("candidate", 10) + "current"]
        for p in patterns {
            let label = p.pattern == PatternTruth.genuine ? "none (false alarms)" : p.pattern
            lines.append("  " + pad(label, name) + left(grouped(p.transactions), 12) + "  "
                + pad(percent(p.candidate.reviewed), 10) + pad(percent(p.current?.reviewed), 10)
                + pad(percent(p.candidate.blocked), 10) + percent(p.current?.blocked))
        }
        return lines
    }

    /// The transforms chosen by data and what they gained.
    private func transformLines(_ s: TransformSelection.Report) -> [String] {
        var lines = ["Transforms  chosen on the newest part of the training slice (\(grouped(s.fitRows)) rows fitted, \(grouped(s.holdoutRows)) held out, \(s.fits) fits)"]
        let changed = s.changed
        if changed.isEmpty {
            lines.append("  unchanged: no feature's alternative lowered the hold-out log-loss by the margin")
        }
        for choice in changed {
            let lossOf = { (t: FeatureTransform) in choice.tried.first { $0.transform == t }.map { fixed($0.holdoutLoss, 5) } ?? "-" }
            lines.append("  \(choice.feature.name): \(choice.start) -> \(choice.chosen) (hold-out log-loss \(lossOf(choice.start)) -> \(lossOf(choice.chosen)))")
        }
        let overrides = s.choices.filter { $0.basis == "override" }.map { "\($0.feature.name)=\($0.chosen)" }
        if !overrides.isEmpty { lines.append("  kept as given (--transform): " + overrides.joined(separator: ", ")) }
        lines.append("  gain        hold-out log-loss \(fixed(s.startLoss, 5)) -> \(fixed(s.chosenLoss, 5)); validation PR AUC \(number(s.startValidationPRAUC)) (starting plan) -> \(number(s.chosenValidationPRAUC))")
        return lines
    }

    private func badLines(_ tally: RecordTally) -> [String] {
        guard tally.badCount > 0 else { return [] }
        var lines = tally.bad.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { "              skipped \(grouped($0.value)): \($0.key)" }
        lines.append(contentsOf: tally.examples.map { "              e.g. \($0)" })
        return lines
    }

    private func row(_ name: String, _ a: String, _ b: String) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        return "  " + pad(name, 20) + pad(a, 26) + b
    }

    private func number(_ x: Double?) -> String { x.map { fixed($0, 4) } ?? "n/a" }
    private func percent(_ x: Double?) -> String { x.map { fixed($0 * 100, 2) + "%" } ?? "n/a" }
}

/// `1234567` as `1,234,567`.
func grouped(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}
