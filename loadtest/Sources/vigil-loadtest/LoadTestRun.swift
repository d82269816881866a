import Foundation
import Kafka

/// One measurement from start to report: sets up Kafka and Redis, runs `vigil serve`, drives the traffic, collects
/// the figures, stops everything (always, and within bounds) and writes the report.
final class LoadTestRun: @unchecked Sendable {
    // @unchecked Sendable: driven by the main thread; the signal handler only touches the locked flags.
    let settings: LoadTestSettings
    /// Set by Ctrl-C / SIGTERM (through its parent, to which the caller routes the signals), and when Vigil dies
    /// during the measurement.
    let stop: StopFlag
    /// Whether a signal ended the run early.
    let interrupted: Locked<Bool>
    let topics = OutputTopicNames()
    /// The port of Vigil's metrics endpoint, if its binary has one.
    private(set) var metricsPort: Int?

    /// Vigil's metrics now, if it serves them.
    func scrapeVigil() -> [String: Double]? {
        metricsPort.flatMap { VigilMetrics.scrape(port: $0) }
    }

    init(settings: LoadTestSettings, signals: StopFlag, interrupted: Locked<Bool>) {
        self.settings = settings
        stop = StopFlag(parent: signals)
        self.interrupted = interrupted
    }

    /// Runs the measurement and writes its report; throws what made it fail (after writing what it could).
    func execute() throws {
        let (_, failure) = measure()
        if let failure { throw failure }
    }

    /// Runs the measurement and writes its report. Returns the result (nil if the run failed before measuring
    /// anything) and the error that made it fail, if any.
    func measure() -> (result: RunResult?, failure: Error?) {
        do {
            return try measureOrThrow()
        } catch {
            return (nil, error)
        }
    }

    private func measureOrThrow() throws -> (result: RunResult?, failure: Error?) {
        let startedAt = Date()
        let vigilPath = try VigilProcess.locate(explicit: settings.vigil)
        let modelPath = URL(fileURLWithPath: settings.model).standardizedFileURL.path
        guard FileManager.default.isReadableFile(atPath: modelPath) else {
            throw LoadTestError("model file \(settings.model) not found (run from the repository root or pass --model PATH)")
        }
        let reportDirectory = try makeReportDirectory(startedAt: startedAt)

        Console.line("vigil-loadtest: \(settings.mode == .max ? "maximum throughput, backlog of \(Format.grouped(settings.count))" : "open loop at \(settings.rate)/s for \(settings.seconds) s"), Vigil \(settings.vigilMode)")
        Console.line("  traffic: \(SummaryTable.profileText(settings))")
        Console.line("  vigil:  \(vigilPath)")
        Console.line("  report: \(reportDirectory)")
        Console.line(settings.brokers == nil ? "Starting librdkafka's mock cluster (\(settings.partitions) partitions per topic)..." : "Checking Kafka at \(settings.brokers!)...")
        let environment: TestEnvironment
        do {
            environment = try TestEnvironment(
                brokers: settings.brokers, redis: settings.redis, redisCluster: settings.redisCluster ? settings.redisClusterReplicas : nil,
                partitions: settings.partitions, topics: topics)
        } catch {
            try? FileManager.default.removeItem(atPath: reportDirectory)  // nothing was measured
            throw error
        }
        defer { environment.shutDown() }
        Console.line("  Kafka \(environment.brokers) (\(environment.isMockKafka ? "mock" : "external")), Redis \(environment.redisEndpoint) (\(environment.isThrowawayRedis ? "throwaway" : "external"))")

        var result = RunResult(
            settings: settings, machine: MachineInfo.current(), startedAt: ISO8601DateFormatter().string(from: startedAt),
            vigilBinary: vigilPath, vigilArguments: [], brokers: environment.brokers,
            kafkaKind: environment.isMockKafka ? "librdkafka mock cluster (in the load test process)" : "external",
            redisAddress: environment.redisEndpoint.description,
            redisKind: environment.redisCluster != nil
                ? "throwaway Redis Cluster (3 masters, \(settings.redisClusterReplicas) replica(s) each)"
                : environment.isThrowawayRedis ? "throwaway redis-server" : "external",
            partitions: environment.partitions[topics.transactions] ?? settings.partitions)
        if settings.merchantSnapshot {
            let published = try MerchantSnapshot.publish(
                endpoint: environment.redisEndpoint, prefix: settings.runId)
            result.merchantSnapshot = published.version
            Console.line("  merchant-risk snapshot \(published.version): \(Format.grouped(MerchantSnapshot.merchants)) merchants in \(Format.fixed(published.seconds, 2)) s")
        }
        // Vigil's /metrics, when this binary has it, on a port of our choosing: per-stage timing for the report.
        if VigilProcess.serveSupports("--http-port", executable: vigilPath), !settings.vigilArgs.contains("--http-port") {
            metricsPort = VigilMetrics.freePort()
        }
        let vigil = VigilProcess(
            executable: vigilPath,
            arguments: vigilArguments(environment: environment, modelPath: modelPath),
            logPath: reportDirectory + "/vigil.log")
        result.vigilArguments = vigil.arguments

        var failure: Error?
        do {
            switch settings.mode {
            case .rate: try runOpenLoop(environment: environment, vigil: vigil, result: &result)
            case .max: try runMaximum(environment: environment, vigil: vigil, result: &result)
            }
            result.completed = !interrupted.value
        } catch {
            failure = error
            result.warnings.append("The run failed: \(error)")
        }
        if vigil.isRunning { result.vigilStop = vigil.stop() }
        result.interrupted = interrupted.value
        result.loadAverageAtEnd = MachineInfo.loadAverageNow()
        if let load = result.machine.loadAverage, load > 0.5 * Double(result.machine.cpus) {
            result.warnings.append("The machine was busy before the run (load average \(Format.fixed(load, 2)) on \(result.machine.cpus) CPUs): other processes competed with Vigil.")
        }

        Console.line("")
        Console.line(SummaryTable.render(result))
        do {
            try ReportWriter(result: result, directory: reportDirectory).write()
            Console.line("Report: \(reportDirectory)/report.md")
        } catch {
            Console.error("could not write the report: \(error)")
        }
        return (result, failure)
    }

    /// fetch.wait.max.ms for consumers of the mock cluster (Vigil's and the tool's reader).
    static let mockFetchWaitMs = 2

    /// `vigil serve` pointed at the run's Kafka and Redis, in its own group and key prefix.
    func vigilArguments(environment: TestEnvironment, modelPath: String) -> [String] {
        var args = [
            "serve",
            "--brokers", environment.brokers,
            "--redis", environment.redisSeedList,
            "--group", settings.runId,
            "--redis-prefix", settings.runId,
            "--session-timeout-ms", "6000",
            "--model", modelPath,
            "--log-level", settings.vigilLogLevel,
            "--mode", settings.vigilMode,
        ]
        if environment.redisCluster != nil { args.append("--redis-cluster") }
        if let batchSize = settings.batchSize { args += ["--batch-size", String(batchSize)] }
        if let batchWaitMs = settings.batchWaitMs { args += ["--batch-wait-ms", String(batchWaitMs)] }
        if let metricsPort { args += ["--http-port", String(metricsPort)] }
        if environment.isMockKafka, !settings.vigilArgs.contains(where: { $0.contains("fetch.wait.max.ms") }) {
            // The mock broker answers a fetch that found nothing only after fetch.wait.max.ms, even if records arrive
            // meanwhile (a real broker answers as soon as they do): keep that wait short so it is not measured as
            // Vigil's latency. Vigil's own default (10 ms) is for real brokers.
            args += ["--kafka-property", "fetch.wait.max.ms=\(Self.mockFetchWaitMs)"]
        }
        return args + settings.vigilArgs
    }

    private func makeReportDirectory(startedAt: Date) throws -> String {
        let path: String
        if let given = settings.reportDir {
            path = given
        } else {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            let profile = settings.loadProfile == .normal ? "" : "-" + settings.loadProfile.rawValue
            path = "loadtest/reports/\(formatter.string(from: startedAt))-\(settings.mode.rawValue)\(profile)"
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw LoadTestError("cannot create the report directory \(absolute): \(error)")
        }
        return absolute
    }

    /// Whether to give the in-process mock broker's sockets TCP_NODELAY (see `MockKafkaCluster.disableNagleOnProcessSockets`).
    func tuneMockSockets(_ environment: TestEnvironment) -> Bool {
        environment.isMockKafka && !settings.keepMockNagle
    }

    /// Polls `condition` every 20 ms until it holds (true), or `deadlineNs` passes, Vigil exits, or the run is
    /// interrupted (false). Vigil exiting throws, with the end of its log.
    func wait(until deadlineNs: Int64, vigil: VigilProcess, doing: String, _ condition: () -> Bool) throws -> Bool {
        while true {
            if condition() { return true }
            if stop.isSet { return false }
            if !vigil.isRunning { throw vigil.unexpectedExit(while: doing) }
            if MonotonicClock.nowNs() >= deadlineNs { return false }
            MonotonicClock.sleep(seconds: 0.02)
        }
    }

    /// Waits until every measured message has an outcome; gives up at `deadlineNs` or after 20 s without progress.
    /// Returns whether everything arrived.
    func drain(ledger: Ledger, vigil: VigilProcess, deadlineNs: Int64, doing: String) throws -> Bool {
        var lastOutcomes = ledger.snapshot.measured.outcomes
        var lastProgressNs = MonotonicClock.nowNs()
        while true {
            let snap = ledger.snapshot
            if snap.measured.outcomes >= snap.measured.published { return true }
            if stop.isSet { return false }
            if !vigil.isRunning { throw vigil.unexpectedExit(while: doing) }
            let now = MonotonicClock.nowNs()
            if snap.measured.outcomes != lastOutcomes {
                lastOutcomes = snap.measured.outcomes
                lastProgressNs = now
            }
            if now >= deadlineNs || now - lastProgressNs > 20_000_000_000 { return false }
            MonotonicClock.sleep(seconds: 0.02)
        }
    }
}
