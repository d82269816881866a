import Foundation
import Kafka
import Logging
import ServiceLifecycle

/// `/healthz`, `/readyz` and `/metrics` over HTTP, on its own thread, off the hot path.
public struct HealthService: Service {
    let endpoint: HTTPEndpoint
    let logger: Logger

    /// Binds the port now, so a taken port is an error at start, not later.
    public init(pipeline: Pipeline, host: String = "0.0.0.0", port: Int, logger: Logger) throws {
        let checks = ReadinessChecks(pipeline: pipeline)
        endpoint = try HTTPEndpoint(host: host, port: port) { path in
            switch path {
            case "/healthz":
                return HTTPResponse(status: 200, body: "ok\n")
            case "/readyz":
                let problems = checks.problems()
                return problems.isEmpty
                    ? HTTPResponse(status: 200, body: "ready\n")
                    : HTTPResponse(status: 503, body: "not ready:\n" + problems.map { "- \($0)\n" }.joined())
            case "/metrics":
                return HTTPResponse(
                    status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                    body: MetricsText.render(pipeline.metricsSnapshot(), lag: pipeline.lag()))
            default:
                return HTTPResponse(status: 404, body: "not found; try /healthz, /readyz, /metrics\n")
            }
        }
        self.logger = logger
    }

    public var port: Int { endpoint.port }

    public func run() async throws {
        endpoint.start()
        logger.info("health and metrics endpoint listening", metadata: ["http.port": "\(endpoint.port)"])
        try? await gracefulShutdown()
        endpoint.stop()
    }
}

/// What `/readyz` checks: partitions assigned, consumption not paused, not far behind, Redis and the broker answering.
/// Uses its own Redis connection (the pipeline's is not shared across threads).
final class ReadinessChecks: @unchecked Sendable {
    let pipeline: Pipeline
    let store: StateStore
    let lock = NSLock()

    init(pipeline: Pipeline) {
        self.pipeline = pipeline
        store = StateStore(host: pipeline.config.redisHost, port: pipeline.config.redisPort, prefix: pipeline.config.redisPrefix)
    }

    func problems() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        var problems: [String] = []
        let s = pipeline.stats.snapshot
        if s.assignedPartitions == 0 { problems.append("no partitions assigned (joining the consumer group?)") }
        if let reason = s.pausedReason { problems.append("consumption paused: \(reason)") }
        do { try store.ping() } catch { problems.append("redis unreachable: \(error)") }
        if let tp = s.positions.keys.first {
            do { _ = try pipeline.consumer.watermarks(tp, timeoutMs: 1000) } catch {
                problems.append("kafka unreachable: \(error)")
            }
        }
        let lag = pipeline.lag().values.reduce(0, +)
        if lag > pipeline.config.readyMaxLag { problems.append("behind by \(lag) records (limit \(pipeline.config.readyMaxLag))") }
        return problems
    }
}

extension Pipeline {
    /// The stats, with the model versions in force now (a swap shows at once, not only after the next batch).
    public func metricsSnapshot() -> PipelineStats.Snapshot {
        var s = stats.snapshot
        s.modelVersion = models.model.version
        if let shadow = models.shadow, s.shadowModelVersion != shadow.version {
            s.shadowModelVersion = shadow.version
            s.shadowVerdicts = VerdictPairs()
        } else if models.shadow == nil {
            s.shadowModelVersion = nil
        }
        return s
    }

    /// Records in each owned input partition not yet processed, from the consumer's cached high watermarks.
    public func lag() -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for (tp, position) in stats.snapshot.positions {
            guard let high = consumer.cachedWatermarks(tp)?.high, high >= 0 else { continue }
            result[tp] = max(0, high - position)
        }
        return result
    }
}
