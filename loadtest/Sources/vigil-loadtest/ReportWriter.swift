import Foundation
import VigilTraffic

/// Writes a run's report directory: report.md (configuration, machine, summary, per-second table), chart.svg and
/// summary.json (every figure, for comparing runs). Vigil's own output is already there as vigil.log.
struct ReportWriter {
    let result: RunResult
    let directory: String

    func write() throws {
        let s = result.settings
        let profile = s.loadProfile == .normal ? "" : ", profile \(s.loadProfile.rawValue)"
        let title = s.mode == .rate
            ? "Vigil open loop: \(Format.grouped(s.mix.totalRate))/s for \(s.seconds) s, \(s.vigilMode)\(profile)"
            : "Vigil maximum throughput: backlog of \(Format.grouped(s.count)), \(s.vigilMode)\(profile)"
        try SVGChart.render(samples: result.samples, mode: result.settings.mode, title: title)
            .write(toFile: directory + "/chart.svg", atomically: true, encoding: .utf8)
        try markdown(title: title).write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(result).write(to: URL(fileURLWithPath: directory + "/summary.json"))
    }

    func markdown(title: String) -> String {
        let r = result
        let s = r.settings
        var md = "# \(title)\n\n"
        md += "\(r.startedAt) · \(r.machine.cpus) CPUs (\(r.machine.cpuModel)) · commit \(r.machine.gitCommit ?? "unknown")"
        md += (r.machine.gitDirty == true ? " (with uncommitted changes)" : "") + "\n\n"
        if !r.completed { md += "**This run did not complete\(r.interrupted ? " (interrupted)" : ""); its figures cover what was measured.**\n\n" }

        md += "## Summary\n\n| | |\n|---|---|\n"
        for (label, value) in SummaryTable.rows(r) { md += "| \(label) | \(value) |\n" }
        if !r.warnings.isEmpty {
            md += "\nWarnings:\n\n"
            for w in r.warnings { md += "- \(w.replacingOccurrences(of: "\n", with: " "))\n" }
        }
        md += "\n![Throughput and \(s.mode == .rate ? "latency" : "backlog") per second](chart.svg)\n\n"

        md += "## Configuration\n\n"
        md += "Command:\n\n```\n\(Format.commandLine(s.commandLine))\n```\n\n"
        md += "Vigil (child process, output in `vigil.log`):\n\n```\n\(Format.commandLine([r.vigilBinary] + r.vigilArguments))\n```\n\n"
        md += "| setting | value |\n|---|---|\n"
        var settings: [(String, String)] = [
            ("mode", s.mode == .rate ? "open loop" : "maximum throughput (--max)"),
            ("profile", SummaryTable.profileText(s) + (r.attackCardId.map { ", attack card \($0)" } ?? "")),
        ]
        if s.mode == .rate {
            settings += [("rate", "\(s.rate)/s"), ("seconds", "\(s.seconds)"), ("ramp", "\(s.rampSeconds) s"), ("warm-up", "\(s.warmup) transactions")]
        } else {
            settings += [("backlog", Format.grouped(s.count)), ("nominal rate (event-time spacing)", "\(s.rate)/s")]
        }
        settings += [
            ("Kafka", "\(r.kafkaKind), \(r.brokers)"),
            ("partitions (transactions)", "\(r.partitions)"),
            ("Redis", "\(r.redisKind), \(r.redisAddress)"),
            ("group / Redis prefix", s.runId),
            ("Vigil mode", s.vigilMode),
            ("batch size / wait", "\(s.batchSize.map(String.init) ?? "Vigil default (2000)") / \(s.batchWaitMs.map { "\($0) ms" } ?? "Vigil default (20 ms)")"),
            ("cards", Format.grouped(s.populationCards)),
            ("seed", "\(s.seed)"),
            ("time scale", "\(Format.fixed(s.timeScale, 0))x (event time per wall second)"),
            ("fraud cards / out of order / late / malformed", "\(s.fraudCards) / \(s.outOfOrder) / \(s.late) / \(s.malformed)"),
            ("publisher", "linger.ms \(s.lingerMs), compression \(s.compression), idempotent"),
        ]
        for (k, v) in settings { md += "| \(k) | \(v) |\n" }

        md += "\n## Machine\n\n| | |\n|---|---|\n"
        md += "| CPUs (nproc) | \(r.machine.cpus) |\n| CPU model | \(r.machine.cpuModel) |\n"
        md += "| memory | \(Format.grouped(r.machine.memoryMB)) MB |\n| kernel | \(r.machine.kernel) |\n| date | \(r.startedAt) |\n"
        md += "| commit | \(r.machine.gitCommit ?? "unknown")\(r.machine.gitDirty == true ? " (dirty)" : "") |\n"
        md += "| load average (1 min) at start / end | \(r.machine.loadAverage.map { Format.fixed($0, 2) } ?? "n/a") / \(r.loadAverageAtEnd.map { Format.fixed($0, 2) } ?? "n/a") |\n"

        md += "\n## Counts\n\n| | |\n|---|---|\n"
        md += "| published (measured) | \(Format.grouped(r.published)) |\n"
        md += "| of which malformed / late by construction / fraud | \(Format.grouped(r.malformedPublished)) / \(Format.grouped(r.generatorLatePublished)) / \(Format.grouped(r.fraudPublished)) |\n"
        md += "| decisions / fraud.late / fraud.dlq | \(Format.grouped(r.decisions)) / \(Format.grouped(r.late)) / \(Format.grouped(r.dlq)) |\n"
        md += "| missing (well-formed / malformed) | \(Format.grouped(r.missingLabelled)) / \(Format.grouped(r.missingMalformed)) |\n"
        md += "| duplicate decisions | \(Format.grouped(r.duplicates)) |\n"
        md += "| outcomes not from this run | \(Format.grouped(r.foreign)) |\n"
        md += "| publish failures | \(Format.grouped(r.publishFailures)) |\n"
        if !r.readerErrors.isEmpty { md += "| reader errors | \(r.readerErrors.joined(separator: "; ")) |\n" }

        if r.latencyFromScheduled != nil || r.latencyFromSent != nil {
            md += "\n## Decision latency (ms)\n\n"
            md += "From the scheduled send time, the figure that counts (a stalled Vigil cannot hide the messages it "
                + "delayed); from the moment `produce` was called; and from the moment this tool could read the "
                + "transaction on the input topic (what Vigil adds: its consume, work and produce, without the "
                + "publisher's linger and the broker's side of publishing).\n\n"
            md += "| from | count | p50 | p90 | p99 | p99.9 | max | mean |\n|---|---|---|---|---|---|---|---|\n"
            let whose = r.attackPublished > 0 ? ", normal traffic" : ""
            var rows = [("schedule" + whose, r.latencyFromScheduled), ("send" + whose, r.latencyFromSent), ("input readable" + whose, r.latencyFromInputReadable)]
            if r.attackPublished > 0 {
                rows += [("schedule, attack card", r.attackLatencyFromScheduled), ("send, attack card", r.attackLatencyFromSent), ("input readable, attack card", r.attackLatencyFromInputReadable)]
            }
            for (name, l) in rows {
                guard let l else { continue }
                md += "| \(name) | \(Format.grouped(Int(l.count))) | \(Format.ms(l.p50)) | \(Format.ms(l.p90)) | \(Format.ms(l.p99)) | \(Format.ms(l.p999)) | \(Format.ms(l.max)) | \(Format.ms(l.mean)) |\n"
            }
        }

        if let b = r.stageBreakdown, b.batches > 0 {
            md += "\n## Where Vigil's time goes\n\n"
            md += "From Vigil's own `/metrics` (`vigil_stage_seconds`), over the measurement: \(Format.grouped(Int(b.batches))) "
                + "batches of \(Format.fixed(b.meanBatchSize, 1)) records on average. Load and store are the Redis round trips; "
                + "produce is the wait for Kafka (acknowledgements, or the transaction commit in exactly-once mode)."
            if let l = b.vigilMeanLatencyMs { md += " Vigil's own mean end-to-end latency (record timestamp to acknowledged outputs): \(Format.ms(l)) ms." }
            md += "\n\n| stage | total s | ms per batch | share |\n|---|---|---|---|\n"
            let total = max(b.totalSeconds, 1e-9)
            for stage in b.stages {
                md += "| \(stage.name) | \(Format.fixed(stage.seconds, 2)) | \(Format.ms(stage.seconds / b.batches * 1000)) | \(Format.percent(stage.seconds / total)) |\n"
            }
            md += "| all | \(Format.fixed(b.totalSeconds, 2)) | \(Format.ms(b.totalSeconds / b.batches * 1000)) | 100 % |\n"
        }

        if let q = r.quality {
            md += "\n## Detection quality\n\nVerdicts of the measured, well-formed transactions against the generator's ground truth.\n\n"
            md += "| positive class | flagged | true positives | precision | recall |\n|---|---|---|---|---|\n"
            md += "| block | \(Format.grouped(q.blocks)) | \(Format.grouped(q.blockTruePositives)) | \(Format.percent(q.blockPrecision)) | \(Format.percent(q.blockRecall)) |\n"
            md += "| review or block | \(Format.grouped(q.flags)) | \(Format.grouped(q.flagTruePositives)) | \(Format.percent(q.flagPrecision)) | \(Format.percent(q.flagRecall)) |\n"
            md += "\nVerdicts: " + ["approve", "review", "block"].map { "\($0) \(Format.grouped(q.verdicts[$0] ?? 0))" }.joined(separator: ", ")
            md += "; fraud transactions decided: \(Format.grouped(q.fraud)) of \(Format.grouped(q.decided)).\n\n"
            md += "| pattern | fraud transactions | review or block | recall |\n|---|---|---|---|\n"
            for pattern in FraudPattern.allCases {
                let n = q.patternFraud[pattern.rawValue] ?? 0
                let k = q.patternFlagged[pattern.rawValue] ?? 0
                md += "| \(pattern.rawValue) | \(Format.grouped(n)) | \(Format.grouped(k)) | \(Format.percent(DetectionQuality.ratio(k, n))) |\n"
            }
        }

        md += "\n## Per second\n\n"
        md += s.mode == .rate
            ? "Outcomes are decisions, late and DLQ messages received in that second; lag is published minus outcomes "
                + "at its end; latencies are of the decisions received in that second, from their scheduled send time"
                + (r.attackPublished > 0 ? " (the normal traffic's; the attack card's are left out).\n\n" : ".\n\n")
            : "Outcomes are decisions, late and DLQ messages received in that second; the backlog left is published "
                + "minus outcomes at its end.\n\n"
        let rate = s.mode == .rate
        md += rate
            ? "| s | target/s | published/s | outcomes/s | lag | p50 ms | p99 ms | max ms | Vigil CPU % | Vigil RSS MB | tool CPU % | Redis MB |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
            : "| s since Vigil started | outcomes/s | backlog left | Vigil CPU % | Vigil RSS MB | tool CPU % | Redis MB |\n"
                + "|---|---|---|---|---|---|---|\n"
        for x in r.samples {
            if !rate {
                let cells = [
                    "\(x.second)", "\(x.outcomes)", "\(x.lag)",
                    x.vigilCPUPercent.map { Format.fixed($0, 0) } ?? "",
                    x.vigilRSSBytes.map { Format.fixed(Double($0) / 1_048_576, 0) } ?? "",
                    x.toolCPUPercent.map { Format.fixed($0, 0) } ?? "",
                    x.redisUsedMemory.map { Format.fixed(Double($0) / 1_048_576, 1) } ?? "",
                ]
                md += "| " + cells.joined(separator: " | ") + " |\n"
                continue
            }
            let cells: [String] = [
                "\(x.second)", x.targetRate.map { Format.fixed($0, 0) } ?? "",
                "\(x.published)", "\(x.outcomes)", "\(x.lag)",
                x.p50Ms.map { Format.ms($0) } ?? "", x.p99Ms.map { Format.ms($0) } ?? "", x.maxMs.map { Format.ms($0) } ?? "",
                x.vigilCPUPercent.map { Format.fixed($0, 0) } ?? "",
                x.vigilRSSBytes.map { Format.fixed(Double($0) / 1_048_576, 0) } ?? "",
                x.toolCPUPercent.map { Format.fixed($0, 0) } ?? "",
                x.redisUsedMemory.map { Format.fixed(Double($0) / 1_048_576, 1) } ?? "",
            ]
            md += "| " + cells.joined(separator: " | ") + " |\n"
        }
        md += "\nHow these figures are measured, and what they do not say: `loadtest/README.md`.\n"
        return md
    }
}
