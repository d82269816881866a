import Kafka
import Foundation

extension LoadTestRun {
    /// Open loop: Vigil runs first; a warm-up proves it is ready; then the publisher follows its schedule while the
    /// reader times every decision.
    func runOpenLoop(environment: TestEnvironment, vigil: VigilProcess, result: inout RunResult) throws {
        let schedule = settings.schedule
        let ledger = Ledger(topics: topics, expectedCount: schedule.total + settings.warmup)
        let redis = try RedisProbe(nodes: environment.redisProbeNodes)
        result.redisBaselineBytes = redis.usedMemory()

        let reader = try OutcomeReader(brokers: environment.brokers, topics: topics, partitions: environment.partitions, ledger: ledger, followInput: true)
        reader.start()
        defer { reader.stopReading() }
        _ = try environment.commitStartOffsets(group: settings.runId, topic: topics.transactions)

        let simStartMs = TrafficSource.startMs(
            endingAt: Int64(Date().timeIntervalSince1970 * 1000), spanSeconds: Double(settings.seconds), timeScale: settings.timeScale)
        let source = TrafficSource(
            profile: settings.profile, startMs: simStartMs, timeScale: settings.timeScale, attack: settings.attack)
        result.attackCardId = source.attackCardId
        let publisher = try Publisher(
            brokers: environment.brokers, topic: topics.transactions, lingerMs: settings.lingerMs,
            compression: settings.compression, source: source, ledger: ledger, stop: stop)

        Console.line("Starting vigil serve (group \(settings.runId)) and warming it up (\(settings.warmup) transactions a round, until every output topic was used)...")
        try vigil.start()
        defer { if vigil.isRunning { result.vigilStop = vigil.stop() } }
        let startupDeadline = vigil.launchedNs + Int64(settings.startupTimeout) * 1_000_000_000
        var warmup = Warmup(settings: settings, startMs: simStartMs)
        var round = 0
        var ready = false
        while !ready, !stop.isSet, MonotonicClock.nowNs() < startupDeadline {
            if tuneMockSockets(environment) { MockKafkaCluster.disableNagleOnProcessSockets() }
            try publisher.publishWarmup(warmup.round(round, count: settings.warmup))
            round += 1
            _ = try wait(until: startupDeadline, vigil: vigil, doing: "before it had decided the warm-up") {
                let c = ledger.snapshot.warmup
                return c.outcomes >= c.published
            }
            ready = Warmup.isComplete(ledger.snapshot.warmup)
        }
        if stop.isSet { return }
        guard ready else {
            let c = ledger.snapshot.warmup
            throw LoadTestError(
                "Vigil was not ready within \(settings.startupTimeout) s: of \(c.published) warm-up transactions, "
                    + "\(c.decisions) decisions, \(c.alerts) alerts, \(c.late) late and \(c.dlq) DLQ messages came back "
                    + "(every kind must appear). Last lines of its output:\n\(vigil.logTail())")
        }
        result.startupSeconds = Double(MonotonicClock.nowNs() - vigil.launchedNs) / 1e9
        result.warmupTransactions = ledger.snapshot.warmup.published
        Console.line("Vigil ready after \(Format.fixed(result.startupSeconds!, 1)) s. Measuring for \(settings.seconds) s"
            + (settings.rampSeconds > 0 ? " (ramp \(settings.rampSeconds) s)" : "") + "...")

        let metricsAtStart = scrapeVigil()
        ledger.startMeasurement()
        if tuneMockSockets(environment) { MockKafkaCluster.disableNagleOnProcessSockets() }
        let monitor = Monitor(
            ledger: ledger, redis: redis, vigilPid: { vigil.pid }, targetRate: { schedule.rate(at: $0) },
            tuneMockSockets: tuneMockSockets(environment))
        let startNs = MonotonicClock.nowNs() + 10_000_000
        monitor.start(atNs: startNs)
        defer { monitor.stop() }

        let published = DispatchSemaphore(value: 0)
        let publishDeadline = startNs + Int64(Double(settings.seconds) * 1.5e9) + 10_000_000_000
        let thread = Thread {
            publisher.runOpenLoop(schedule, startNs: startNs, deadlineNs: publishDeadline)
            published.signal()
        }
        thread.name = "loadtest-publisher"
        thread.start()
        var vigilDied: LoadTestError?
        while published.wait(timeout: .now() + 0.05) == .timedOut {
            if !vigil.isRunning, vigilDied == nil {
                vigilDied = vigil.unexpectedExit(while: "during the measurement")
                stop.set()  // ends the publisher
            }
        }
        let publishEndNs = MonotonicClock.nowNs()
        if let vigilDied { throw vigilDied }
        let status = publisher.status.value
        result.publishSeconds = Double(publishEndNs - startNs) / 1e9
        result.publisherMaxBehindMs = Double(status.maxBehindNs) / 1e6
        if status.sent < schedule.total && !stop.isSet {
            result.warnings.append(
                "The publisher could not keep to its schedule: \(status.sent) of \(schedule.total) sent by the deadline.")
        }

        if !stop.isSet {
            Console.line("Published \(Format.grouped(status.sent)); waiting for the remaining outcomes...")
        }
        let drained = try drain(
            ledger: ledger, vigil: vigil,
            deadlineNs: publishEndNs + Int64(settings.drainTimeout) * 1_000_000_000, doing: "while draining")
        let drainEndNs = MonotonicClock.nowNs()
        result.drainSeconds = max(0, Double((ledger.snapshot.lastOutcomeNs ?? drainEndNs) - publishEndNs) / 1e9)
        if !drained && !stop.isSet {
            result.warnings.append("Not every published transaction came back within the drain bounds (\(ledger.snapshot.lag) missing).")
        }
        MonotonicClock.sleep(seconds: 0.3)  // a last tick of stragglers (duplicates) before stopping
        if let end = scrapeVigil() { result.stageBreakdown = StageBreakdown(from: metricsAtStart, to: end) }
        monitor.stop()
        result.vigilStop = vigil.stop()
        reader.stopReading()

        collect(ledger: ledger, publisher: status, reader: reader, monitor: monitor, startNs: startNs, into: &result)
        let windowEnd = result.publishSeconds ?? Double(settings.seconds)
        summarize(samples: result.samples, from: Double(settings.rampSeconds) + 1, to: windowEnd, into: &result)
        let snap = ledger.snapshot
        if let last = snap.lastOutcomeNs, last > startNs {
            // From the start of publishing to the last outcome: what the run as a whole sustained.
            let seconds = Double(last - startNs) / 1e9
            result.outcomesPerSecond = Double(snap.measured.outcomes) / seconds
            result.decisionsPerSecond = Double(snap.measured.decisions) / seconds
            result.firstToLastSeconds = seconds
        }
        collectRedis(redis, environment: environment, into: &result)
    }
}
