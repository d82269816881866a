import ArgumentParser
import Foundation
import Kafka
import Logging
import Redis
import ServiceLifecycle
import VigilCore
import VigilService
import VigilTraffic

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Vigil end to end on embedded defaults: librdkafka's mock cluster in-process, a throwaway "
            + "redis-server, generated card traffic with fraud patterns, and a live view of what Vigil decides."
    )

    @Option(help: "Stop after this many seconds (Ctrl-C stops earlier).")
    var seconds = 30

    @Option(help: "Transactions per second to generate.")
    var rate = 2000

    @Option(help: "Number of cards in the generated population.")
    var cards = 100_000

    @Option(help: "Simulated event-time seconds per wall-clock second: with the defaults a card pays every few hours of event time, as real cards do, and a 30 s demo covers five hours.")
    var timeScale = 600.0

    @Option(help: "Share of cards that get a fraud episode.")
    var fraudCards = 0.01

    @Option(help: "Partitions of every topic on the embedded cluster.")
    var partitions: Int32 = 4

    @Option(help: "Use this Redis HOST:PORT instead of starting a throwaway redis-server.")
    var redis: String?

    @Option(help: "Traffic seed (the same seed gives the same traffic).")
    var seed: UInt64 = 42

    @Option(help: "Model file.")
    var model = "models/baseline.json"

    @Option(help: "Log level of the pipeline's own log lines (stderr).")
    var logLevel = "warning"

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be > 0") }
        guard (1...1_000_000).contains(rate) else { throw ValidationError("--rate must be 1-1000000") }
        guard timeScale >= 1, timeScale <= 100_000 else { throw ValidationError("--time-scale must be 1-100000") }
        guard cards > 0 else { throw ValidationError("--cards must be > 0") }
        guard (0...1).contains(fraudCards) else { throw ValidationError("--fraud-cards must be 0-1") }
        guard (1...64).contains(partitions) else { throw ValidationError("--partitions must be 1-64") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "vigil.demo")
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

        var redisServer: RedisServerProcess?
        if let redis {
            let parts = redis.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--redis must be HOST:PORT") }
            config.redisHost = String(parts[0])
            config.redisPort = port
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
        let health = try HealthService(pipeline: pipeline, host: "127.0.0.1", port: 0, logger: logger)
        out.line("Metrics at http://127.0.0.1:\(health.port)/metrics, readiness at /readyz")

        var profile = TrafficProfile()
        profile.cards = cards
        profile.seed = seed
        profile.fraudCardFraction = fraudCards
        let traffic = TrafficFeeder(
            brokers: cluster.bootstrapServers, topic: config.topics.transactions, rate: rate, timeScale: timeScale,
            seconds: seconds, profile: profile)
        let alerts = try AlertTail(brokers: cluster.bootstrapServers, topic: config.topics.alerts, partitions: partitions)
        let dashboard = Dashboard(
            pipeline: pipeline, traffic: traffic, alerts: alerts, seconds: seconds, console: out)

        out.line("Running for \(seconds) s at \(rate) transactions/s over \(cards) cards, event time \(Int(timeScale))x wall time. Ctrl-C stops early.\n")
        // Shutdown runs in reverse order: the dashboard ends the demo, traffic stops, then the pipeline finishes its
        // batch and leaves the group.
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [
                .init(service: PipelineService(pipeline: pipeline)),
                .init(service: ModelWatcher(holder: models, pollIntervalMs: 1000, logger: logger)),
                .init(service: health),
                .init(service: traffic),
                .init(service: alerts),
                .init(service: dashboard, successTerminationBehavior: .gracefullyShutdownGroup),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
        dashboard.printSummary()
    }
}

/// Plain stdout output, flushed per line so it reads well through pipes.
struct DemoConsole: Sendable {
    func line(_ s: String) {
        FileHandle.standardOutput.write(Data((s + "\n").utf8))
    }
}
