/// The side-by-side table of a profile comparison (`--profiles`): one column per profile, the throughput ratio of
/// hot to normal cards, and the attack's latencies for the normal traffic and the attack card apart.
struct ProfileComparisonTable {
    struct Entry {
        var profile: LoadProfile
        var mode: LoadTestSettings.Mode
        var settings: LoadTestSettings
        /// Nil if the run failed before it measured anything.
        var result: RunResult?
        var failure: String?
        var reportDirectory: String

        var name: String { LoadProfile.Run(profile: profile, mode: mode).name }
    }

    /// Issue 13's targets, printed next to the figures.
    static let hotShareTarget = 0.70
    static let attackNormalP99TargetMs = 15.0

    let entries: [Entry]
    let startedAt: String

    /// Hot-card throughput as a share of normal-card throughput, when both were measured with --max.
    var hotToNormal: Double? {
        guard let normal = throughput(of: .normal), let hot = throughput(of: .hot), normal > 0 else { return nil }
        return hot / normal
    }

    private func throughput(of profile: LoadProfile) -> Double? {
        entries.first { $0.profile == profile && $0.mode == .max }?.result?.outcomesPerSecond
    }

    /// Label and one cell per profile.
    func rows() -> [(String, [String])] {
        func cells(_ cell: (Entry, RunResult) -> String?) -> [String] {
            entries.map { e in e.result.flatMap { cell(e, $0) } ?? "–" }
        }
        func per(_ v: Double?) -> String? { v.map { Format.grouped(Int($0.rounded())) + "/s" } }
        func lat(_ l: LatencySummary?) -> String? {
            l.map { "\(Format.ms($0.p50)) · \(Format.ms($0.p99)) · \(Format.ms($0.max))" }
        }
        let anyMax = entries.contains { $0.mode == .max }
        let anyRate = entries.contains { $0.mode == .rate }
        let anyAttack = entries.contains { $0.profile == .attack && $0.mode == .rate }
        var rows: [(String, [String])] = [
            ("mode", entries.map { $0.mode == .max ? "--max" : "open loop" }),
            ("partitions", entries.map { e in "\(e.result?.partitions ?? e.settings.partitions)" }),
            ("cards", entries.map { e in
                Format.grouped(e.settings.populationCards) + (e.settings.mix.attackRate > 0 ? " + 1 attack card" : "")
            }),
        ]
        if anyMax {
            rows.append(("backlog (--max)", cells { e, r in e.mode == .max ? Format.grouped(r.published) : nil }))
            rows.append(("Vigil throughput, records/s", cells { e, r in e.mode == .max ? per(r.outcomesPerSecond) : nil }))
            rows.append(("share of the consume ceiling", cells { e, r in e.mode == .max ? Format.percent(r.ceilingRatio) : nil }))
            if let normal = throughput(of: .normal), normal > 0 {
                rows.append(("throughput / normal", cells { e, r in
                    e.mode == .max ? r.outcomesPerSecond.map { Format.percent($0 / normal) } : nil
                }))
            }
        }
        if anyRate {
            rows.append(("sent (open loop)", cells { e, r in
                guard e.mode == .rate else { return nil }
                let s = e.settings
                let rate = s.mix.attackRate > 0
                    ? "\(Format.grouped(s.rate)) + \(Format.grouped(s.mix.attackRate))/s" : "\(Format.grouped(s.rate))/s"
                return "\(rate) for \(s.seconds) s: \(Format.grouped(r.published))"
            }))
            rows.append(("latency from schedule, p50 · p99 · max ms" + (anyAttack ? " (normal traffic)" : ""), cells { e, r in
                e.mode == .rate ? lat(r.latencyFromScheduled) : nil
            }))
            rows.append(("latency from input readable, p50 · p99 · max ms" + (anyAttack ? " (normal traffic)" : ""), cells { e, r in
                e.mode == .rate ? lat(r.latencyFromInputReadable) : nil
            }))
            if anyAttack {
                rows.append(("attack card: payments published · decided", cells { e, r in
                    r.attackPublished > 0 ? "\(Format.grouped(r.attackPublished)) · \(Format.grouped(r.attackDecisions))" : nil
                }))
                rows.append(("attack card: latency from schedule, p50 · p99 · max ms", cells { e, r in
                    r.attackPublished > 0 ? lat(r.attackLatencyFromScheduled) : nil
                }))
                rows.append(("attack card: latency from input readable, p50 · p99 · max ms", cells { e, r in
                    r.attackPublished > 0 ? lat(r.attackLatencyFromInputReadable) : nil
                }))
            }
            rows.append(("max lag", cells { e, r in e.mode == .rate ? Format.grouped(r.samples.map(\.lag).max() ?? 0) : nil }))
        }
        rows += [
            ("missing · duplicates", cells { _, r in "\(Format.grouped(r.missingLabelled + r.missingMalformed)) · \(Format.grouped(r.duplicates))" }),
            ("Vigil CPU mean · max (100 % = 1 core)", cells { _, r in
                guard let mean = r.vigilCPUMeanPercent else { return nil }
                return "\(Format.fixed(mean, 0)) % · \(r.vigilCPUMaxPercent.map { Format.fixed($0, 0) } ?? "n/a") %"
            }),
            ("Vigil RSS max", cells { _, r in r.vigilRSSMaxBytes.map { Format.megabytes($0) } }),
            ("load test CPU mean", cells { _, r in r.toolCPUMeanPercent.map { Format.fixed($0, 0) + " %" } }),
            ("Redis bytes/card (delta)", cells { _, r in r.redisBytesPerCard.map { Format.fixed($0, 0) } }),
            ("load average start → end", cells { _, r in
                "\(r.machine.loadAverage.map { Format.fixed($0, 2) } ?? "n/a") → \(r.loadAverageAtEnd.map { Format.fixed($0, 2) } ?? "n/a")"
            }),
            ("run", entries.map { e in
                e.failure != nil ? "failed" : e.result?.completed == true ? "completed" : e.result?.interrupted == true ? "interrupted" : "incomplete"
            }),
        ]
        return rows
    }

    /// The two figures issue 13 asks for, against its targets.
    func headlines() -> [String] {
        var lines: [String] = []
        if let ratio = hotToNormal {
            lines.append("Hot / normal throughput: \(Format.percent(ratio)) (issue 13: at least \(Format.percent(Self.hotShareTarget, 0)))")
        }
        if let attack = entries.first(where: { $0.profile == .attack && $0.mode == .rate }), let r = attack.result,
           let p99 = r.latencyFromScheduled?.p99 {
            let s = attack.settings
            lines.append(
                "Card-testing attack (\(Format.grouped(s.mix.attackRate))/s on one card on top of \(Format.grouped(s.rate))/s): "
                    + "normal traffic p99 \(Format.ms(p99)) ms from schedule (issue 13: under \(Format.fixed(Self.attackNormalP99TargetMs, 0)) ms at 2,000/s on 10,000/s)"
                    + (r.attackLatencyFromScheduled.map { "; attack card p99 \(Format.ms($0.p99)) ms" } ?? ""))
            if let alone = entries.first(where: { $0.profile == .normal && $0.mode == .rate && $0.settings.rate == s.rate }),
               let p99Alone = alone.result?.latencyFromScheduled?.p99 {
                lines.append("The same normal traffic without the attack (\(alone.name)): p99 \(Format.ms(p99Alone)) ms from schedule")
            }
        }
        return lines
    }

    func text() -> String {
        let rows = rows()
        let labelWidth = rows.map(\.0.count).max() ?? 0
        let widths = entries.indices.map { i in
            max(entries[i].name.count, rows.map { $0.1[i].count }.max() ?? 0)
        }
        var lines = ["Profiles"]
        lines.append("  " + Format.padRight("", labelWidth) + entries.indices.map { "  " + Format.padRight(entries[$0].name, widths[$0]) }.joined())
        for (label, cells) in rows {
            lines.append("  " + Format.padRight(label, labelWidth) + cells.indices.map { "  " + Format.padRight(cells[$0], widths[$0]) }.joined())
        }
        for line in headlines() { lines.append("  " + line) }
        for e in entries {
            for w in e.result?.warnings ?? [] { lines.append("  ! \(e.name): " + w.replacingOccurrences(of: "\n", with: " ")) }
            if let f = e.failure, e.result == nil { lines.append("  ! \(e.name): " + f.replacingOccurrences(of: "\n", with: " ")) }
        }
        return lines.joined(separator: "\n")
    }

    func markdown(commandLine: [String]) -> String {
        var md = "# Vigil load test profiles: \(entries.map(\.name).joined(separator: ", "))\n\n"
        if let r = entries.compactMap(\.result).first {
            md += "\(startedAt) · \(r.machine.cpus) CPUs (\(r.machine.cpuModel)) · commit \(r.machine.gitCommit ?? "unknown")"
            md += (r.machine.gitDirty == true ? " (with uncommitted changes)" : "") + " · Vigil \(r.settings.vigilMode)\n\n"
        }
        md += "One run per profile, one after another, each against a fresh `vigil serve`, mock Kafka cluster and "
            + "Redis. Throughput is from `--max` runs, latency from open-loop runs (from the scheduled send time, "
            + "so a stalled Vigil cannot hide what it delayed). With the attack, the normal traffic's latency and the "
            + "attack card's are measured apart.\n\n"
        for line in headlines() { md += "- **\(line)**\n" }
        md += "\n| | " + entries.map { "[\($0.name)](\(relative($0.reportDirectory))/report.md)" }.joined(separator: " | ") + " |\n"
        md += "|---|" + String(repeating: "---|", count: entries.count) + "\n"
        for (label, cells) in rows() { md += "| \(label) | " + cells.joined(separator: " | ") + " |\n" }
        let warnings = entries.flatMap { e in
            (e.result?.warnings ?? []).map { "\(e.name): \($0)" } + (e.result == nil ? e.failure.map { ["\(e.name): \($0)"] } ?? [] : [])
        }
        if !warnings.isEmpty {
            md += "\nWarnings:\n\n"
            for w in warnings { md += "- \(w.replacingOccurrences(of: "\n", with: " "))\n" }
        }
        md += "\nCommand:\n\n```\n\(Format.commandLine(commandLine))\n```\n\n"
        md += "Each profile's own report (configuration, machine, per-second table, Vigil's stage timing) is in its "
            + "directory, linked in the table's header. How the figures are measured: `loadtest/README.md`.\n"
        return md
    }

    private func relative(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// The comparison's figures for summary.json (every run's full figures are in its own summary.json).
    struct Figures: Codable {
        struct Profile: Codable {
            var profile: String
            var mode: String
            var name: String
            var cards: Int
            var reportDirectory: String
            var completed: Bool
            var failure: String?
            var published: Int?
            var outcomesPerSecond: Double?
            var ceilingPerSecond: Double?
            var shareOfCeiling: Double?
            var normalRate: Int?
            var attackRate: Int?
            var attackCardId: String?
            var latencyFromScheduled: LatencySummary?
            var latencyFromInputReadable: LatencySummary?
            var attackLatencyFromScheduled: LatencySummary?
            var attackLatencyFromInputReadable: LatencySummary?
            var maxLag: Int?
            var missing: Int?
            var duplicates: Int?
            var vigilCPUMeanPercent: Double?
            var vigilCPUMaxPercent: Double?
            var vigilRSSMaxBytes: Int64?
            var toolCPUMeanPercent: Double?
            var redisBytesPerCard: Double?
            var loadAverageAtStart: Double?
            var loadAverageAtEnd: Double?
            var warnings: [String]
        }
        var startedAt: String
        var hotToNormalThroughput: Double?
        var profiles: [Profile]
    }

    func figures() -> Figures {
        Figures(startedAt: startedAt, hotToNormalThroughput: hotToNormal, profiles: entries.map { e in
            let r = e.result
            return Figures.Profile(
                profile: e.profile.rawValue, mode: e.mode.rawValue, name: e.name, cards: e.settings.populationCards,
                reportDirectory: e.reportDirectory, completed: r?.completed ?? false, failure: e.failure,
                published: r?.published, outcomesPerSecond: r?.outcomesPerSecond, ceilingPerSecond: r?.ceiling?.messagesPerSecond,
                shareOfCeiling: r?.ceilingRatio,
                normalRate: e.mode == .rate ? e.settings.rate : nil,
                attackRate: e.settings.mix.attackRate > 0 ? e.settings.mix.attackRate : nil,
                attackCardId: r?.attackCardId,
                latencyFromScheduled: r?.latencyFromScheduled, latencyFromInputReadable: r?.latencyFromInputReadable,
                attackLatencyFromScheduled: r?.attackLatencyFromScheduled,
                attackLatencyFromInputReadable: r?.attackLatencyFromInputReadable,
                maxLag: r.map { $0.samples.map(\.lag).max() ?? 0 }, missing: r.map { $0.missingLabelled + $0.missingMalformed },
                duplicates: r?.duplicates, vigilCPUMeanPercent: r?.vigilCPUMeanPercent, vigilCPUMaxPercent: r?.vigilCPUMaxPercent,
                vigilRSSMaxBytes: r?.vigilRSSMaxBytes, toolCPUMeanPercent: r?.toolCPUMeanPercent,
                redisBytesPerCard: r?.redisBytesPerCard, loadAverageAtStart: r?.machine.loadAverage,
                loadAverageAtEnd: r?.loadAverageAtEnd, warnings: r?.warnings ?? [])
        })
    }
}
