/// The run's headline figures as label/value rows: printed on the terminal at the end and as the summary table
/// of report.md.
enum SummaryTable {
    static func rows(_ r: RunResult) -> [(String, String)] {
        var rows: [(String, String)] = []
        let s = r.settings
        func add(_ label: String, _ value: String) { rows.append((label, value)) }
        func per(_ v: Double?) -> String { v.map { Format.grouped(Int($0.rounded())) + "/s" } ?? "n/a" }
        func lat(_ l: LatencySummary?) -> String {
            guard let l else { return "n/a" }
            return "p50 \(Format.ms(l.p50)) · p90 \(Format.ms(l.p90)) · p99 \(Format.ms(l.p99)) · p99.9 \(Format.ms(l.p999)) · max \(Format.ms(l.max)) ms"
        }

        add("Profile", profileText(s) + (r.attackCardId.map { " (\($0))" } ?? ""))
        if s.mode == .rate {
            let rate = Format.grouped(s.mix.totalRate) + (s.mix.attackRate > 0 ? " (\(Format.grouped(s.rate)) normal + \(Format.grouped(s.mix.attackRate)) attack)" : "")
            let target = s.rampSeconds > 0 ? "\(rate)/s after a \(s.rampSeconds) s ramp" : "\(rate)/s"
            add("Traffic", "\(target) for \(s.seconds) s: \(Format.grouped(r.published)) published"
                + (r.publishSeconds.map { " in \(Format.fixed($0, 1)) s" } ?? ""))
        } else {
            add("Backlog", "\(Format.grouped(r.published)) transactions, \(Format.fixed(r.backlogBytesPerMessage ?? 0, 0)) bytes each, published at \(per(r.backlogPublishPerSecond)) with Vigil stopped")
            if let c = r.ceiling {
                add("Consume ceiling", "\(per(c.messagesPerSecond)) (bare consumer, \(Format.grouped(c.messages)) in \(Format.fixed(c.seconds, 2)) s)")
            }
            add("Vigil throughput", "\(per(r.outcomesPerSecond)) records (\(per(r.decisionsPerSecond)) decisions), first to last outcome \(r.firstToLastSeconds.map { Format.fixed($0, 2) } ?? "n/a") s")
            add("Share of ceiling", Format.percent(r.ceilingRatio))
        }
        add("Outcomes", "\(Format.grouped(r.decisions)) decisions, \(Format.grouped(r.late)) late, \(Format.grouped(r.dlq)) DLQ; "
            + "\(Format.grouped(r.missingLabelled + r.missingMalformed)) missing, \(Format.grouped(r.duplicates)) duplicates")
        add("Per second (outcomes)", "median \(per(r.medianSecondRate)) · min \(per(r.minSecondRate)) · peak \(per(r.peakSecondRate))")
        if s.mode == .rate {
            add("Overall", "\(per(r.outcomesPerSecond)) outcomes from first publish to last outcome")
            add("Max lag", Format.grouped(r.samples.map(\.lag).max() ?? 0) + " transactions")
            // With an attack, these three are the normal traffic's; the attack card's follow apart.
            let whose = r.attackPublished > 0 ? ", normal traffic" : ""
            add("Latency (from schedule\(whose))", lat(r.latencyFromScheduled))
            add("Latency (from send\(whose))", lat(r.latencyFromSent))
            if let l = r.latencyFromInputReadable { add("Latency (input readable\(whose))", lat(l)) }
            if r.attackPublished > 0 {
                add("Attack card", "\(Format.grouped(r.attackPublished)) payments published, \(Format.grouped(r.attackDecisions)) decided")
                add("Latency (from schedule, attack card)", lat(r.attackLatencyFromScheduled))
                add("Latency (from send, attack card)", lat(r.attackLatencyFromSent))
                if let l = r.attackLatencyFromInputReadable { add("Latency (input readable, attack card)", lat(l)) }
            }
            add("Publisher", "at most \(Format.ms(r.publisherMaxBehindMs)) ms behind schedule")
            add("Drain", r.drainSeconds.map { Format.fixed($0, 2) + " s after the last publish" } ?? "n/a")
            add("Startup", r.startupSeconds.map { Format.fixed($0, 1) + " s (launch to warm-up decided)" } ?? "n/a")
        } else {
            add("Startup", r.startupSeconds.map { Format.fixed($0, 1) + " s (launch to first decision)" } ?? "n/a")
        }
        if let b = r.stageBreakdown, b.batches > 0 {
            let perBatch = b.stages.filter { $0.seconds / b.batches >= 0.0001 }
                .map { "\($0.name) \(Format.ms($0.seconds / b.batches * 1000))" }.joined(separator: " · ")
            add("Vigil batches", "\(Format.grouped(Int(b.batches))) of \(Format.fixed(b.meanBatchSize, 0)) records on average; ms per batch: \(perBatch)")
            if b.transactions > 0 {
                add("Kafka transactions", "\(Format.grouped(Int(b.transactions))) committed, \(Format.fixed(b.transactionBatches / b.transactions, 1)) batches each on average")
            }
            if r.merchantSnapshot != nil || b.merchantLookupBatches > 0 {
                add("Merchant risk", "snapshot \(r.merchantSnapshot ?? "none published"); \(Format.grouped(Int(b.merchantLookupBatches))) of \(Format.grouped(Int(b.batches))) batches looked their merchants up")
            }
        }
        add("Vigil CPU", "mean \(r.vigilCPUMeanPercent.map { Format.fixed($0, 0) + " %" } ?? "n/a") · max \(r.vigilCPUMaxPercent.map { Format.fixed($0, 0) + " %" } ?? "n/a") (100 % = one core of \(r.machine.cpus))")
        add("Vigil RSS", "max \(Format.megabytes(r.vigilRSSMaxBytes)) · end \(Format.megabytes(r.vigilRSSEndBytes))")
        add("Load test CPU", (r.toolCPUMeanPercent.map { Format.fixed($0, 0) + " %" } ?? "n/a")
            + (r.kafkaKind.hasPrefix("librdkafka") ? " mean (includes the mock Kafka broker)" : " mean"))
        var redis = "used_memory \(Format.megabytes(r.redisBaselineBytes)) → \(Format.megabytes(r.redisEndBytes))"
        if let k = r.redisKeys {
            redis += "; \(Format.grouped(k.cardKeys)) card keys"
            if let b = r.redisBytesPerCard { redis += ", \(Format.fixed(b, 0)) bytes/card (delta)" }
            if let u = k.sampledMemoryUsage { redis += ", \(Format.fixed(u, 0)) bytes/card (MEMORY USAGE of \(k.sampledKeys))" }
        }
        if let deleted = r.redisKeysDeleted { redis += "; \(Format.grouped(deleted)) keys deleted at the end" }
        add("Redis", redis)
        if let q = r.quality {
            add("Block", "precision \(Format.percent(q.blockPrecision)) · recall \(Format.percent(q.blockRecall)) (\(Format.grouped(q.blocks)) blocks)")
            add("Review or block", "precision \(Format.percent(q.flagPrecision)) · recall \(Format.percent(q.flagRecall)) (\(Format.grouped(q.flags)) flagged, \(Format.grouped(q.fraud)) fraud of \(Format.grouped(q.decided)) decided)")
        }
        if let stop = r.vigilStop {
            add("Vigil stop", stop.exitedWithinTimeout ? "SIGTERM → \(stop.exit) after \(Format.fixed(stop.seconds, 2)) s" : stop.exit)
        }
        return rows
    }

    /// The run's traffic in a few words: which profile, how many cards, and the attack on top.
    static func profileText(_ s: LoadTestSettings) -> String {
        switch s.loadProfile {
        case .normal: return "normal, \(Format.grouped(s.populationCards)) cards"
        case .hot: return "hot, \(Format.grouped(s.populationCards)) cards"
        case .attack:
            return "attack: \(Format.grouped(s.populationCards)) cards at \(Format.grouped(s.rate))/s "
                + "plus card testing on one card at \(Format.grouped(s.attackRate))/s"
        }
    }

    static func render(_ r: RunResult) -> String {
        let rows = rows(r)
        let width = rows.map(\.0.count).max() ?? 0
        var lines = ["Summary" + (r.completed ? "" : (r.interrupted ? " (interrupted)" : " (incomplete)"))]
        for (label, value) in rows { lines.append("  " + Format.padRight(label, width) + "  " + value) }
        for warning in r.warnings { lines.append("  ! " + warning) }
        return lines.joined(separator: "\n")
    }
}
