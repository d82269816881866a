import Foundation
import Kafka
import ServiceLifecycle
import VigilCore
import VigilService

/// Prints once a second what Vigil does, and a summary at the end. Ends the demo after `seconds`.
final class Dashboard: Service, @unchecked Sendable {
    let pipeline: Pipeline
    let traffic: TrafficFeeder
    let alerts: AlertTail
    let seconds: Int
    let console: DemoConsole
    let started = Date()

    init(pipeline: Pipeline, traffic: TrafficFeeder, alerts: AlertTail, seconds: Int, console: DemoConsole) {
        self.pipeline = pipeline
        self.traffic = traffic
        self.alerts = alerts
        self.seconds = seconds
        self.console = console
    }

    /// Statistics when the warm-up (joining the group, the first backlog) is over; the summary's latency is measured
    /// from here.
    var steadyFrom: PipelineStats.Snapshot?

    func run() async throws {
        var previous = pipeline.stats.snapshot
        for tick in 1...seconds {
            try await Task.sleep(for: .seconds(1))
            if Task.isShuttingDownGracefully { return }
            // The embedded mock broker answers like a real one only with TCP_NODELAY on its sockets.
            MockKafkaCluster.disableNagleOnProcessSockets()
            let now = pipeline.stats.snapshot
            if steadyFrom == nil, tick >= 5, now.batches > 0 { steadyFrom = now }
            printTick(tick, now: now, previous: previous)
            previous = now
        }
    }

    private func printTick(_ tick: Int, now: PipelineStats.Snapshot, previous: PipelineStats.Snapshot) {
        let window = now.latency.subtracting(previous.latency)
        func ms(_ v: Int?) -> String { v.map { $0 > 10_000 ? ">10s" : "\($0) ms" } ?? "-" }
        let v = now.verdicts
        var text = String(
            format: "[%3ds] in %6d tx/s | decided %7d (approve %d, review %d, block %d) | late %d | dlq %d | "
                + "latency p50 %@ p99 %@ | model %@",
            tick, now.processed - previous.processed, now.decided, v[.approve] ?? 0, v[.review] ?? 0, v[.block] ?? 0,
            now.late, now.rejected, ms(window.percentile(0.5)), ms(window.percentile(0.99)), now.modelVersion)
        if let error = now.lastError, now.retriedBatches > previous.retriedBatches {
            text += "\n       retrying after: \(error)"
        }
        let recent = alerts.latest.withLock { $0 }.filter { $0.receivedAt > Date().addingTimeInterval(-1.5) }
        for alert in recent.suffix(3) {
            let reasons = alert.reasons.map { "\($0.0) +\(String(format: "%.2f", $0.1))" }.joined(separator: ", ")
            text += "\n       alert: \(alert.verdict.uppercased()) \(alert.cardId) score \(String(format: "%.3f", alert.score)) because \(reasons)"
        }
        console.line(text)
    }

    func printSummary() {
        let s = pipeline.stats.snapshot
        let elapsed = Date().timeIntervalSince(started)
        func ms(_ v: Int?) -> String { v.map { "\($0) ms" } ?? "-" }
        let steady = steadyFrom.map { s.latency.subtracting($0.latency) } ?? s.latency
        console.line("""

            Summary after \(String(format: "%.1f", elapsed)) s
              generated        \(traffic.produced.load(ordering: .relaxed)) transactions \
            (\(traffic.fraud.load(ordering: .relaxed)) fraud, \(traffic.malformed.load(ordering: .relaxed)) malformed, \
            \(traffic.late.load(ordering: .relaxed)) late by design)
              decided          \(s.decided): approve \(s.verdicts[.approve] ?? 0), review \(s.verdicts[.review] ?? 0), \
            block \(s.verdicts[.block] ?? 0)
              late             \(s.late) (to fraud.late)
              dead-lettered    \(s.rejected) (to fraud.dlq)
              alerts read back \(alerts.total.load(ordering: .relaxed)) from fraud.alerts
              latency          p50 \(ms(steady.percentile(0.5))), p99 \(ms(steady.percentile(0.99))), \
            max \(ms(steady.percentile(1.0))) (publish to outputs in Kafka, after the first 5 s of warm-up)
              batches          \(s.batches) (\(s.retriedBatches) retried), \(s.batches > 0 ? s.processed / s.batches : 0) records each
              time per batch   \(stageText(s))
            """)
    }

    private func stageText(_ s: PipelineStats.Snapshot) -> String {
        guard s.batches > 0 else { return "-" }
        return PipelineStage.allCases.map { stage in
            String(format: "%@ %.1f ms", stage.rawValue, Double(s.stageNanos[stage] ?? 0) / Double(s.batches) / 1e6)
        }.joined(separator: ", ")
    }
}
