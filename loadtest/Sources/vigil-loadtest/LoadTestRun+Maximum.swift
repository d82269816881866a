import Foundation
import Kafka

extension LoadTestRun {
    /// How many times the consume ceiling is read (the fastest read counts).
    static let ceilingReads = 3

    /// Maximum throughput: the backlog goes into Kafka while Vigil is not running; a bare consumer reads it to
    /// measure the ceiling; then Vigil starts and the reader times how fast its outcomes appear.
    func runMaximum(environment: TestEnvironment, vigil: VigilProcess, result: inout RunResult) throws {
        let count = settings.count
        let ledger = Ledger(topics: topics, expectedCount: count)
        let redis = try RedisProbe(nodes: environment.redisProbeNodes)
        result.redisBaselineBytes = redis.usedMemory()

        let reader = try OutcomeReader(brokers: environment.brokers, topics: topics, partitions: environment.partitions, ledger: ledger)
        reader.start()
        defer { reader.stopReading() }
        let startOffsets = try environment.commitStartOffsets(group: settings.runId, topic: topics.transactions)

        // The backlog's event times are spaced as at --rate (plus --attack-rate with an attack).
        let backlogSeconds = Double(count) / Double(settings.mix.totalRate)
        let startMs = TrafficSource.startMs(
            endingAt: Int64(Date().timeIntervalSince1970 * 1000), spanSeconds: backlogSeconds, timeScale: settings.timeScale)
        let source = TrafficSource(
            profile: settings.profile, startMs: startMs, timeScale: settings.timeScale, attack: settings.attack)
        result.attackCardId = source.attackCardId
        if environment.isMockKafka { checkMockRetention(source: source, partitions: result.partitions, into: &result) }
        let publisher = try Publisher(
            brokers: environment.brokers, topic: topics.transactions, lingerMs: settings.lingerMs,
            compression: settings.compression, source: source, ledger: ledger, stop: stop)

        // 1. The backlog, with Vigil stopped.
        ledger.startMeasurement()
        Console.line("Publishing a backlog of \(Format.grouped(count)) transactions (Vigil not running)...")
        let publishStart = MonotonicClock.nowNs()
        try publisher.publishBacklog(count: count, nominalRate: Double(settings.mix.totalRate), deadlineNs: publishStart + 1_800_000_000_000)
        if stop.isSet { return }
        let status = publisher.status.value
        result.published = status.sent
        let publishSeconds = Double(MonotonicClock.nowNs() - publishStart) / 1e9
        result.backlogPublishPerSecond = Double(status.sent) / publishSeconds
        result.backlogBytesPerMessage = status.sent > 0 ? Double(status.bytes) / Double(status.sent) : nil
        Console.line("  \(Format.grouped(status.sent)) published in \(Format.fixed(publishSeconds, 1)) s (\(Format.grouped(Int(result.backlogPublishPerSecond!)))/s), \(Format.fixed(result.backlogBytesPerMessage ?? 0, 0)) bytes per message (key + value)")
        guard status.deliveryFailures == 0, status.produceErrors == 0 else {
            throw LoadTestError("\(status.deliveryFailures + status.produceErrors) backlog messages were not delivered: \(status.deliveryErrors.first ?? status.firstError ?? "")")
        }
        try verifyBacklog(environment: environment, start: startOffsets, expected: count)

        // 2. The consume ceiling: the same backlog through a consumer that does nothing, read three times (each
        // with a fresh group) and the fastest kept: a single read lasts a fraction of a second and one disturbed by
        // anything else on the machine would flatter Vigil's share.
        Console.line("Measuring the raw consume ceiling (bare KafkaConsumer, batches of \(settings.effectiveBatchSize), best of \(Self.ceilingReads))...")
        var ceiling: ConsumeCeiling?
        for _ in 0..<Self.ceilingReads where !stop.isSet {
            let read = try ConsumeCeiling.measure(
                brokers: environment.brokers, start: startOffsets, expected: count,
                batchSize: settings.effectiveBatchSize, batchWaitMs: settings.effectiveBatchWaitMs, stop: stop)
            Console.line("  \(Format.grouped(read.messages)) read in \(Format.fixed(read.seconds, 2)) s: \(Format.grouped(Int(read.messagesPerSecond)))/s")
            if ceiling == nil || read.messagesPerSecond > ceiling!.messagesPerSecond { ceiling = read }
        }
        guard let ceiling else { return }
        result.ceiling = ceiling
        if !ceiling.completed { result.warnings.append("The ceiling consumer read only \(ceiling.messages) of \(count) messages.") }
        if stop.isSet { return }

        // 3. Vigil works through the backlog.
        Console.line("Starting vigil serve (group \(settings.runId)) on the backlog...")
        if tuneMockSockets(environment) { MockKafkaCluster.disableNagleOnProcessSockets() }
        let monitor = Monitor(
            ledger: ledger, redis: redis, vigilPid: { vigil.pid }, targetRate: nil,
            tuneMockSockets: tuneMockSockets(environment))
        try vigil.start()
        defer { if vigil.isRunning { result.vigilStop = vigil.stop() } }
        let startNs = vigil.launchedNs
        monitor.start(atNs: startNs)
        defer { monitor.stop() }
        let started = try wait(
            until: startNs + Int64(settings.startupTimeout) * 1_000_000_000, vigil: vigil,
            doing: "before its first decision"
        ) { ledger.snapshot.firstOutcomeNs != nil }
        if stop.isSet { return }
        guard started else {
            throw LoadTestError("Vigil produced no outcome within \(settings.startupTimeout) s. Last lines of its output:\n\(vigil.logTail())")
        }
        result.startupSeconds = Double(ledger.snapshot.firstOutcomeNs! - startNs) / 1e9
        let drained = try drain(
            ledger: ledger, vigil: vigil,
            deadlineNs: startNs + Int64(settings.drainTimeout) * 1_000_000_000, doing: "while working through the backlog")
        if !drained && !stop.isSet {
            result.warnings.append("Vigil did not finish the backlog within the bounds (\(ledger.snapshot.lag) outstanding).")
        }
        MonotonicClock.sleep(seconds: 0.3)
        if let end = scrapeVigil() { result.stageBreakdown = StageBreakdown(from: nil, to: end) }
        monitor.stop()
        result.vigilStop = vigil.stop()
        reader.stopReading()

        collect(ledger: ledger, publisher: status, reader: reader, monitor: monitor, startNs: startNs, into: &result)
        let snap = ledger.snapshot
        if let first = snap.firstOutcomeNs, let last = snap.lastOutcomeNs, last > first {
            let seconds = Double(last - first) / 1e9
            result.firstToLastSeconds = seconds
            result.outcomesPerSecond = Double(snap.measured.outcomes - snap.firstBatchOutcomes) / seconds
            let share = Double(snap.measured.decisions) / Double(max(1, snap.measured.outcomes))
            result.decisionsPerSecond = result.outcomesPerSecond.map { $0 * share }
            let from = Double(first - startNs) / 1e9 + 1
            let to = Double(last - startNs) / 1e9
            summarize(samples: result.samples, from: from, to: to, into: &result)
        }
        result.latencyFromScheduled = nil  // a backlog has no meaningful per-message latency
        result.latencyFromSent = nil
        result.attackLatencyFromScheduled = nil
        result.attackLatencyFromSent = nil
        collectRedis(redis, environment: environment, into: &result)
    }

    /// Warns when the backlog will not fit the mock cluster's 5 MiB per partition, from the size of messages the
    /// run's own generator makes.
    private func checkMockRetention(source: TrafficSource, partitions: Int32, into result: inout RunResult) {
        var probe = source  // a copy: the real source is untouched
        var bytes = 0
        var attackBytes = 0
        var attackMessages = 0
        let sample = min(2000, settings.count)
        for i in 0..<sample {
            let (m, isAttack) = probe.next(atSeconds: Double(i) / Double(settings.mix.totalRate))
            let size = m.value.count + (m.key?.count ?? 0) + 14  // + record framing (varints, attributes, batch header)
            bytes += size
            if isAttack {
                attackBytes += size
                attackMessages += 1
            }
        }
        let perMessage = Double(bytes) / Double(sample)
        var perPartition = perMessage * Double(settings.count) / Double(partitions)
        if attackMessages > 0 {
            // The attack card's partition holds its share of the normal traffic plus the whole attack.
            let attackShare = Double(attackMessages) / Double(sample)
            let normalPerMessage = Double(bytes - attackBytes) / Double(sample - attackMessages)
            perPartition = normalPerMessage * Double(settings.count) * (1 - attackShare) / Double(partitions)
                + Double(attackBytes) / Double(attackMessages) * Double(settings.count) * attackShare
        }
        // Busy cards make some partitions a few percent fuller than the mean: keep a margin.
        let budget = Double(TestEnvironment.mockPartitionBytes) * 0.9
        guard settings.compression == "none", perPartition > budget else { return }
        let needed = Int((perMessage * Double(settings.count) / (budget * 0.95)).rounded(.up))
        let remedy = attackMessages > 0
            ? "the attack card's partition takes the whole attack: use a smaller --count or --attack-rate, or --compression lz4."
            : "use --partitions \(needed) or more, or --compression lz4."
        let text = "The backlog needs about \(Format.fixed(perPartition / 1_048_576, 1)) MiB \(attackMessages > 0 ? "in the attack card's partition" : "per partition") "
            + "(\(Format.fixed(perMessage, 0)) bytes per record) but the mock cluster keeps only 5 MiB per partition: " + remedy
        Console.warning(text)
        result.warnings.append(text)
    }

    /// Fails the run if the broker does not hold the whole backlog (the mock deletes the oldest batches of a
    /// partition beyond 5 MiB).
    private func verifyBacklog(environment: TestEnvironment, start: [TopicPartition: Int64], expected: Int) throws {
        let probe = try environment.makeProbe()
        defer { try? probe.close() }
        var held = 0
        var lost: [String] = []
        for (tp, from) in start.sorted(by: { $0.key < $1.key }) {
            let w = try probe.watermarks(tp, timeoutMs: 10_000)
            held += Int(w.high - max(w.low, from))
            if w.low > from { lost.append("\(tp): \(w.low - from) deleted") }
        }
        if !lost.isEmpty || held < expected {
            throw LoadTestError(
                "Kafka holds only \(held) of the \(expected) backlog messages (\(lost.prefix(4).joined(separator: "; "))"
                    + "\(lost.count > 4 ? "; ..." : "")). The mock cluster keeps 5 MiB per partition: use more "
                    + "--partitions or --compression lz4, or a smaller --count.")
        }
    }
}
