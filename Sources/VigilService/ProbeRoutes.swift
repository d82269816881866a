import Foundation
import Kafka
import Logging

/// What an operational endpoint answers: a status, a media type and a body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
    }
}

/// The operational routes, independent of the HTTP server that carries them (the seam a library server plugs into).
public struct ProbeRoutes: Sendable {
    let pipeline: Pipeline

    public init(pipeline: Pipeline) { self.pipeline = pipeline }

    public func response(to path: String) -> HTTPResponse {
        switch path {
        case "/healthz":
            let report = pipeline.probeReport()
            return report.stall.map { HTTPResponse(status: 503, body: "not live: \($0)\n") }
                ?? HTTPResponse(status: 200, body: "ok\n")
        case "/readyz":
            let report = pipeline.probeReport()
            return report.notReady.isEmpty
                ? HTTPResponse(status: 200, body: "ready\n")
                : HTTPResponse(status: 503, body: "not ready:\n" + report.notReady.map { "- \($0.text)\n" }.joined())
        case "/metrics":
            return HTTPResponse(
                status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                body: pipeline.renderMetrics())
        default:
            return HTTPResponse(status: 404, body: "not found; try /healthz, /readyz, /metrics\n")
        }
    }
}

/// What the probes say, from values only (`ProbeReportTests`): why the instance is not ready (each cause with a bounded
/// label for `vigil_not_ready`), and whether it is stuck.
public struct ProbeReport: Sendable, Equatable {
    public struct Problem: Sendable, Equatable {
        /// A label from `ProbeReport.labels`.
        public var label: String
        public var text: String
    }

    public var notReady: [Problem] = []
    /// Why `/healthz` fails: the pipeline showed no progress for longer than the stall bound; nil while live.
    public var stall: String?
    public var secondsSinceProgress: Double = 0

    /// Every label `vigil_not_ready` reports, each 0 or 1.
    public static let labels = ["shutting_down", "halted", "pipeline_stalled", "no_partitions", "broker_unreachable", "behind", "batches_failing"]
        + RedisCondition.labels

    struct Inputs {
        var stats: PipelineStats.Snapshot
        var lag: Int64
        var maxLag: Int64
        var redis: RedisCondition
        var broker: BrokerCondition
        var progress: PipelineProgress
        var stallBound: Duration
        var stopping: Bool
        var now: ContinuousClock.Instant
    }

    static func make(_ i: Inputs) -> ProbeReport {
        var report = ProbeReport()
        let quiet = i.progress.quiet(at: i.now)
        report.secondsSinceProgress = max(0, Double(quiet.components.seconds) + Double(quiet.components.attoseconds) / 1e18)
        if quiet > i.stallBound {
            report.stall = "pipeline stalled: no progress for \(Int(report.secondsSinceProgress)) s "
                + "(limit \(Int(i.stallBound.components.seconds)) s; the last: \(i.progress.lastEvent.rawValue))"
        }
        func add(_ label: String, _ text: String) { report.notReady.append(Problem(label: label, text: text)) }
        if i.stopping { add("shutting_down", "shutting down: finishing the batches in flight") }
        if let halt = i.stats.haltReason { add("halted", "stopped: \(halt)") }
        if let stall = report.stall { add("pipeline_stalled", stall) }
        if let reason = i.stats.pausedReason {
            let label = i.stats.pausedCondition?.label ?? "redis_unreachable"
            let detail = i.stats.pausedCondition.map { $0.detail.isEmpty ? "" : " (\($0.detail))" } ?? ""
            add(label, "consumption paused: \(reason)\(detail)")
        }
        if i.redis != .answering, i.redis.label != i.stats.pausedCondition?.label {
            add(i.redis.label, "\(i.redis.cause): \(i.redis.detail)")
        }
        if i.stats.pausedReason == nil, let failure = i.progress.failure {
            add("batches_failing", "batches failing, retried: \(failure)")
        }
        if case .unreachable(let detail) = i.broker { add("broker_unreachable", "broker unreachable: \(detail)") }
        if i.stats.assignedPartitions == 0 { add("no_partitions", "no partitions assigned (joining the consumer group?)") }
        if i.lag > i.maxLag { add("behind", "behind by \(i.lag) records (limit \(i.maxLag))") }
        return report
    }
}

extension Pipeline {
    /// What the probes say now, from memory.
    public func probeReport(now: ContinuousClock.Instant = .now) -> ProbeReport {
        ProbeReport.make(.init(
            stats: stats.snapshot, lag: lag().values.reduce(0, +), maxLag: config.readyMaxLag, redis: probes.redis,
            broker: probes.broker, progress: probes.progress, stallBound: .milliseconds(config.stallTimeoutMs),
            stopping: isStopRequested, now: now))
    }

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

    /// What `/metrics` answers: every series brought up to date, in Prometheus's text format.
    public func renderMetrics() -> String {
        stats.metrics.render(metricsInputs())
    }

    /// What the metrics report besides the histograms, from memory (no broker or Redis round trip).
    public func metricsInputs() -> VigilMetrics.Inputs {
        var inputs = VigilMetrics.Inputs(stats: metricsSnapshot())
        let owned = Set(partitions.assigned).filter { !partitions.isFenced($0) }
        inputs.stats.newestEventTimeMs = inputs.stats.newestEventTimeMs.filter { owned.contains($0.key) }
        inputs.lag = lag()
        inputs.probes = probeReport()
        inputs.process = ProcessStats.current()
        // Three statistics intervals: a client that stopped reporting (replaced, closed) ages out.
        inputs.kafka = KafkaDiagnostics.latestStatistics(maxAgeMs: max(30_000, 3 * Int64(config.kafkaStatisticsIntervalMs)))
        inputs.kafkaErrors = KafkaDiagnostics.errorCounts
        return inputs
    }

    /// Records in each owned input partition not yet processed, from the consumer's cached high watermarks (no
    /// broker round trip). Partitions given up (revoked, or claimed by another instance) do not count.
    public func lag() -> [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        let assigned = Set(partitions.assigned)
        for (tp, position) in stats.snapshot.positions where assigned.contains(tp) && !partitions.isFenced(tp) {
            guard let high = consumer.cachedWatermarks(tp)?.high, high >= 0 else { continue }
            result[tp] = max(0, high - position)
        }
        return result
    }
}
