import ArgumentParser
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import VigilHTTP
import VigilService

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Consume transactions, score them and publish decisions, alerts and feature records."
    )

    @OptionGroup var options: PipelineOptions

    func run() async throws {
        ProcessStats.recordStart()
        let config = try options.config()
        let logger = options.makeLogger("vigil")
        config.kafka.log(to: logger)
        // Brokers, topics and Redis answer as configured, or Vigil stops here naming the setting (StartupChecks).
        let checks = StartupChecks(config: config, logger: logger)
        let start = try await checks.run()
        let models: ModelHolder
        let watcher: ModelWatcher
        do {
            switch config.modelSource {
            case .file:
                models = try ModelHolder(
                    path: config.modelPath, shadowPath: config.shadowModelPath, catalog: config.featureCatalog)
                watcher = ModelWatcher(holder: models, pollIntervalMs: config.modelPollMs, logger: logger)
            case .redis:
                let channel = ModelChannel(endpoint: config.redisEndpoint, prefix: config.redisPrefix)
                let follower = try ModelFollower(
                    channel: channel, fallbackPath: config.modelPath, logger: logger, catalog: config.featureCatalog)
                models = follower.holder
                watcher = ModelWatcher(following: follower, pollIntervalMs: config.modelPollMs, logger: logger)
            }
        } catch {
            throw ValidationError("\(error)")
        }
        try registerDeployment(config, logger: logger)
        let pipeline = try Pipeline(config: config, models: models, logger: logger)
        // Whatever records through swift-metrics in this process (a library, a future instrument) is served beside
        // Vigil's own series. Nothing does today: Hummingbird records request metrics only with its MetricsMiddleware,
        // which the operational server does not install.
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: pipeline.stats.metrics.registry))
        logger.info("starting", metadata: ["version": "\(BuildInfo.version)", "librdkafka": "\(BuildInfo.librdkafka)"])
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: PipelineService(pipeline: pipeline, exitAtShutdownBound: true)), .init(service: watcher),
        ]
        if let port = config.httpPort {
            do {
                // First, so that it stops last (a group stops its services in reverse order): while the pipeline
                // finishes its batches, /readyz says "shutting down" and /healthz still answers.
                services.insert(.init(service: try await HealthService.start(pipeline: pipeline, host: config.httpHost, port: port, logger: logger)), at: 0)
            } catch {
                throw ValidationError("--http-host \(config.httpHost) --http-port \(port): \(error)")
            }
        }
        if !start.redisAnswered {
            // Redis's eviction policy is checked when Redis answers; a refusal then stops the group gracefully.
            services.append(.init(
                service: RedisPolicyWatch(checks: checks, logger: logger),
                successTerminationBehavior: .ignore, failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        ))
        try await group.run()
    }

    /// Refuses to start if another deployment (consumer group, input topic) holds the Redis prefix: both would claim
    /// the same partition records and card keys. If Redis cannot be asked now, the check is left to the claims.
    func registerDeployment(_ config: VigilConfig, logger: Logger) throws {
        let store = StateStore(endpoint: config.redisEndpoint, prefix: config.redisPrefix)
        do {
            try store.register(Deployment(group: config.group, topic: config.topics.transactions))
        } catch StateStoreError.otherDeployment(let conflict) {
            throw conflict
        } catch {
            logger.warning("could not check the redis prefix at start; it is checked again when partitions are claimed", metadata: [
                "error": "\(error)",
            ])
        }
    }
}
