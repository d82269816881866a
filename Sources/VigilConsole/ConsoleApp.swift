import Hummingbird
import Logging
import ServiceLifecycle

/// Runs the console: the feed, the label publisher and the HTTP server in one service group. SIGTERM or SIGINT
/// stops the server first, then the publisher (waiting a bounded time for labels in flight), then the feed.
public enum ConsoleApp {
    public static func run(
        _ config: ConsoleConfig, logger: Logger, onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
    ) async throws {
        let group = ServiceGroup(
            configuration: .init(
                // A failing service (the server cannot bind) shuts the others down gracefully and its error ends
                // the run.
                services: services(config, logger: logger, onListening: onListening).map {
                    .init(service: $0, failureTerminationBehavior: .gracefullyShutdownGroup)
                },
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The console's services, in the order a group starts them (and stops them in reverse): the feed, the label
    /// publisher, the HTTP server. For a process that runs the console beside other services (`vigil demo`).
    public static func services(
        _ config: ConsoleConfig, logger: Logger, onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }
    ) -> [any Service] {
        let desk = ConsoleDesk(limits: config.limits)
        let feed = ConsoleFeed(desk: desk, kafka: config.consumerKafka, topics: config.topics, lookback: config.lookback, logger: logger)
        let publisher = LabelPublisher(desk: desk, kafka: config.producerKafka, topic: config.topics.labels, logger: logger)
        let server = ConsoleServer(
            desk: desk, publisher: publisher, credentials: config.credentials, labelTimeoutMs: config.labelTimeoutMs, logger: logger)
        let host = config.host
        let app = Application(
            router: server.router(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "vigil-console"),
            onServerRunning: { channel in onListening(host, channel.localAddress?.port ?? 0) },
            logger: logger)
        return [feed, publisher, app]
    }
}
