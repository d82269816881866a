import Logging
import ServiceLifecycle
import VigilService

/// `/healthz`, `/readyz` and `/metrics` over HTTP (`OperationsServer`), off the hot path. Every answer comes from
/// memory: the pipeline and the watches (`ProbeWatch`: Redis and the broker asked once a second, on threads of their
/// own) keep `ProbeState` current, so a probe never waits on Redis or the broker and is answered in microseconds.
public final class HealthService: Service, Sendable {
    let server: OperationsServer
    let watch: ProbeWatch
    let logger: Logger

    /// Listens now, so a taken port or a bad host is an error at start, before the pipeline runs.
    public static func start(pipeline: Pipeline, host: String = "0.0.0.0", port: Int, logger: Logger) async throws -> HealthService {
        let routes = ProbeRoutes(pipeline: pipeline)
        let server = try await OperationsServer.start(host: host, port: port, logger: logger) { routes.response(to: $0) }
        return HealthService(server: server, watch: ProbeWatch(pipeline: pipeline, logger: logger), logger: logger)
    }

    private init(server: OperationsServer, watch: ProbeWatch, logger: Logger) {
        self.server = server
        self.watch = watch
        self.logger = logger
    }

    public var port: Int { server.port }

    /// Serves until the group shuts down gracefully, then stops listening.
    public func run() async throws {
        watch.start()
        logger.info("health and metrics endpoint listening", metadata: ["http.port": "\(server.port)"])
        try? await gracefulShutdown()
        await server.stop()
        watch.stop()
    }
}
