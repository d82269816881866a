import ArgumentParser
import Foundation
import Kafka
import Logging
import Redis
import ServiceLifecycle
import Synchronization
import VigilCore
import VigilHTTP
import VigilService
import VigilTraffic
import VigilTraining

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Vigil end to end on embedded defaults: librdkafka's mock cluster in-process, a throwaway "
            + "redis-server, generated card traffic with fraud patterns, and a live view of what Vigil decides."
    )

    @Option(help: "Stop after this many seconds (Ctrl-C stops earlier).")
    var seconds = 60

    @Option(help: "Transactions per second to generate.")
    var rate = 2000

    @Option(help: "Number of cards in the generated population.")
    var cards = 8000

    @Option(help: "Simulated days the run covers: event time runs days x 86400 / seconds times faster than the wall clock (with the defaults six weeks in a minute, a card paying every few days), long enough for labels that arrive days late and for the merchant-risk job's 30-day windows.")
    var days = 42.0

    @Option(help: "Simulated event-time seconds per wall-clock second, instead of --days (600: a 30 s demo covers five hours, too short for any label to arrive).")
    var timeScale: Double?

    @Option(help: "Share of cards that get a fraud episode.")
    var fraudCards = 0.01

    @Option(help: "Share of everyday merchants compromised once per 60 days, for 2-5 weeks: every payment there is fraud (compromised_merchant), whichever card makes it. 0 turns them off.")
    var compromisedMerchants = 0.01

    @Option(help: "Comma-separated home countries of the cards (fewer countries: more cards per merchant).")
    var countries = "DE,FR"

    @Option(help: "Write the history here for 'vigil train' and 'vigil merchant-risk': transactions.jsonl, labels.jsonl, features.jsonl, truth.jsonl. Empty: write nothing.")
    var outputDir = "demo-output"

    @Option(help: "Partitions of every topic on the embedded cluster.")
    var partitions: Int32 = 4

    @Option(help: "Use this Redis HOST:PORT instead of starting a throwaway redis-server.")
    var redis: String?

    @OptionGroup(title: "Redis authentication and TLS (with --redis)")
    var redisSecurity: RedisSecurityOptions

    @Option(help: "Traffic seed (the same seed gives the same traffic).")
    var seed: UInt64 = 42

    @Option(help: "Model file.")
    var model = "models/baseline.json"

    @Option(help: "Log level of the pipeline's own log lines (stderr).")
    var logLevel = "warning"

    @Option(help: "Port of the fraud team's console on 127.0.0.1 (0: a free one; -1: no console). The login token is VIGIL_CONSOLE_TOKEN, or a new one in <output-dir>/console-token.")
    var consolePort = 0

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be > 0") }
        guard (1...1_000_000).contains(rate) else { throw ValidationError("--rate must be 1-1000000") }
        guard (-1...65_535).contains(consolePort) else { throw ValidationError("--console-port must be -1 (none), 0 (a free port) or a port") }
        if let timeScale {
            guard timeScale >= 1, timeScale <= 1_000_000 else { throw ValidationError("--time-scale must be 1-1000000") }
        }
        guard days > 0, days <= 365 else { throw ValidationError("--days must be > 0 and at most 365") }
        guard effectiveTimeScale <= 1_000_000 else {
            throw ValidationError("--days \(days) over --seconds \(seconds) runs event time more than 1,000,000 times faster than the wall clock; run longer")
        }
        guard cards > 0 else { throw ValidationError("--cards must be > 0") }
        guard (0...1).contains(fraudCards) else { throw ValidationError("--fraud-cards must be 0-1") }
        guard (0...1).contains(compromisedMerchants) else { throw ValidationError("--compromised-merchants must be 0-1") }
        let supported = Set(TrafficProfile.supportedHomeCountries)
        guard !homeCountries.isEmpty, homeCountries.allSatisfy(supported.contains) else {
            throw ValidationError("--countries must list some of: " + TrafficProfile.supportedHomeCountries.joined(separator: ","))
        }
        guard (1...64).contains(partitions) else { throw ValidationError("--partitions must be 1-64") }
    }

    /// Simulated seconds per wall-clock second.
    var effectiveTimeScale: Double { timeScale ?? days * 86_400 / Double(seconds) }

    var homeCountries: [String] {
        countries.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).uppercased() }
    }

    /// The traffic: the demo's cards, fraud cards and compromised merchants.
    var profile: TrafficProfile {
        var profile = TrafficProfile()
        profile.cards = cards
        profile.seed = seed
        profile.fraudCardFraction = fraudCards
        profile.homeCountries = homeCountries
        if compromisedMerchants > 0 {
            profile.compromisedMerchants = MerchantCompromise(merchantFraction: compromisedMerchants)
        }
        return profile
    }

    func run() async throws {
        let logger = LogSetup.bootstrap("vigil.demo", level: Logger.Level(rawValue: logLevel) ?? .warning, format: .text)
        StartupChecks.logNumberFormatter(logger)
        let out = DemoConsole()

        out.line("Starting the embedded Kafka (librdkafka mock cluster)...")
        let cluster = try MockKafkaCluster(brokers: 1)
        var config = VigilConfig()
        config.brokers = cluster.bootstrapServers
        config.group = "vigil-demo"
        config.modelPath = model
        config.sessionTimeoutMs = 6000
        config.firstStart = .earliest  // a new embedded cluster: everything on it is the demo's own traffic
        config.httpPort = 0
        try config.topics.create(on: cluster, partitions: partitions)
        let labelsTopic = "fraud.labels"
        try cluster.createTopic(labelsTopic, partitions: partitions)

        var redisServer: RedisServerProcess?
        if let redis {
            let parts = redis.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--redis must be HOST:PORT") }
            config.redisHost = String(parts[0])
            config.redisPort = port
            let endpoint = try redisSecurity.endpoint(host: config.redisHost, port: port)
            (config.redisCredentials, config.redisTLS) = (endpoint.credentials, endpoint.tls)
            config.redisPrefix = "vigil-demo-\(UInt32.random(in: 0...UInt32.max))"
        } else {
            out.line("Starting a throwaway redis-server...")
            let server = try RedisServerProcess.start()
            redisServer = server
            config.redisHost = server.host
            config.redisPort = server.port
        }
        defer { redisServer?.stop() }
        out.line("Kafka at \(cluster.bootstrapServers), Redis at \(config.redisHost):\(config.redisPort)")

        let models: ModelHolder
        do { models = try ModelHolder(path: model) } catch { throw ValidationError("\(error)") }
        out.line("Model \(models.model.version) from \(model)")
        let pipeline = try Pipeline(config: config, models: models, logger: logger)
        let health = try await HealthService.start(pipeline: pipeline, host: "127.0.0.1", port: 0, logger: logger)
        out.line("Metrics at http://127.0.0.1:\(health.port)/metrics, readiness at /readyz")

        let history = try outputDir.isEmpty ? nil : DemoHistory(directory: outputDir)
        let recorder = try history.map {
            try FeatureRecorder(
                brokers: cluster.bootstrapServers, topic: config.topics.features, partitions: partitions, file: $0.features)
        }
        let detection = try DetectionRecorder(brokers: cluster.bootstrapServers, topics: config.topics, partitions: partitions)
        let timeScale = effectiveTimeScale
        let traffic = TrafficFeeder(
            brokers: cluster.bootstrapServers, topic: config.topics.transactions, labelsTopic: labelsTopic, rate: rate,
            timeScale: timeScale, seconds: seconds, profile: profile, history: history, detection: detection,
            wallStartMs: Int64(Date().timeIntervalSince1970 * 1000))
        let alerts = try AlertTail(brokers: cluster.bootstrapServers, topic: config.topics.alerts, partitions: partitions)
        let dashboard = Dashboard(
            pipeline: pipeline, traffic: traffic, alerts: alerts, seconds: seconds, console: out)

        let span = String(format: "%.1f", Double(traffic.endMs - traffic.startMs) / 86_400_000)
        out.line(
            "Running for \(seconds) s at \(rate) transactions/s over \(cards) cards in "
                + "\(homeCountries.joined(separator: ",")), event time \(Int(timeScale))x wall time: "
                + "\(UTCTime.iso(traffic.startMs)) to \(UTCTime.iso(traffic.endMs)) (\(span) days).")
        out.line("Labels go to \(labelsTopic) once their report time has passed. Ctrl-C stops early.\n")
        let console = try consoleServices(brokers: cluster.bootstrapServers, topics: config.topics, labelsTopic: labelsTopic, out: out)
        // Shutdown runs in reverse order (the console first): the dashboard ends the demo, traffic stops, then the pipeline finishes its
        // batch and leaves the group.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: PipelineService(pipeline: pipeline)),
                .init(service: ModelWatcher(holder: models, pollIntervalMs: 1000, logger: logger)),
                .init(service: health),
                .init(service: traffic),
                .init(service: alerts),
                .init(service: dashboard, successTerminationBehavior: .gracefullyShutdownGroup),
            ] + console.map { .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        recorder?.start()
        detection.start()
        try await group.run()
        dashboard.printSummary()
        printTraffic(traffic)
        printDetection(detection.finish())
        if let history, let recorder {
            let features = recorder.finish()
            try history.close()
            printHistory(history, features: features, traffic: traffic)
        }
    }

    private func printTraffic(_ traffic: TrafficFeeder) {
        func n(_ a: borrowing Atomic<Int>) -> Int { a.load(ordering: .relaxed) }
        let out = DemoConsole()
        out.line("""
              fraud            \(n(traffic.fraud)) transactions, \(n(traffic.compromised)) of them at compromised merchants
              labels           \(n(traffic.labelsPublished)) published to fraud.labels (\(n(traffic.fraudLabelsPublished)) fraud) up to \
            \(UTCTime.iso(traffic.lastNowMs.load(ordering: .relaxed))); \(n(traffic.labelsPending)) reported later, \
            \(n(traffic.fraudNeverReported)) frauds never
            """)
    }

    private func printDetection(_ report: DetectionReport) {
        let out = DemoConsole()
        out.line("\nDetection against the generator's ground truth (Vigil's outcomes read back from Kafka; recall of the frauds decided)")
        for line in report.tableLines() { out.line(line) }
    }

    private func printHistory(_ history: DemoHistory, features: Int, traffic: TrafficFeeder) {
        let out = DemoConsole()
        let dir = history.directory
        let cut = UTCTime.iso(traffic.lastNowMs.load(ordering: .relaxed) + 1)
        out.line("""

            History in \(dir)/: \(history.transactions.lines) transactions, \(features) feature records, \
            \(history.labels.lines) labels, \(history.truth.lines) ground-truth lines. Retrain on it:

              vigil train --features-file \(history.featuresPath) --labels-file \(history.labelsPath) \\
                --truth \(history.truthPath) --output-dir \(dir) --promote-to \(dir)/active.json

            and compute merchant risk as of the demo's end:

              vigil merchant-risk --transactions-file \(history.transactionsPath) --labels-file \(history.labelsPath) \\
                --cut \(cut) --out \(dir)/merchant-risk.jsonl
            """)
    }
}

/// Plain stdout output, flushed per line so it reads well through pipes.
struct DemoConsole: Sendable {
    func line(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }
}
