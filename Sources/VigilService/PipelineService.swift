import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a `Pipeline` on its own thread (its librdkafka and hiredis calls block) as a lifecycle `Service`.
/// Graceful shutdown (SIGTERM/SIGINT in a `ServiceGroup`) or cancellation lets the batches in flight finish, store and
/// commit, then leaves the consumer group. With `exitAtShutdownBound` (the `vigil serve` process), a stop that takes
/// longer than `config.shutdownTimeoutMs` ends the process: what was not stored is processed again by the next owner,
/// as after a crash, and Kubernetes' grace period is never exceeded.
/// If the pipeline stops on its own (another deployment holds the Redis prefix), `run()` throws `PipelineHalted`, which
/// ends the group and `vigil serve` with that reason.
public struct PipelineService: Service {
    public let pipeline: Pipeline
    let exitAtShutdownBound: Bool

    public init(pipeline: Pipeline, exitAtShutdownBound: Bool = false) {
        self.pipeline = pipeline
        self.exitAtShutdownBound = exitAtShutdownBound
    }

    public func run() async throws {
        let pipeline = pipeline
        let finished = Arc(Atomic<Bool>(false))
        let stop: @Sendable () -> Void = { [exitAtShutdownBound] in
            pipeline.requestStop()
            if exitAtShutdownBound { Self.startWatchdog(pipeline, finished: finished) }
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        pipeline.run()
                        finished.value.store(true, ordering: .relaxed)
                        done.resume()
                    }
                    thread.name = "vigil-pipeline"
                    thread.start()
                }
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
        if let reason = pipeline.stats.snapshot.haltReason { throw PipelineHalted(reason: reason) }
    }

    /// After the shutdown bound, exits the process if the pipeline has not stopped by then.
    static func startWatchdog(_ pipeline: Pipeline, finished: Arc<Atomic<Bool>>) {
        let bound = Double(pipeline.config.shutdownTimeoutMs) / 1000
        let thread = Thread {
            let deadline = Date().addingTimeInterval(bound)
            while Date() < deadline {
                if finished.value.load(ordering: .relaxed) { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            if finished.value.load(ordering: .relaxed) { return }
            pipeline.logger.critical("shutdown bound reached, exiting without finishing; the next owner processes what was not stored", metadata: [
                "shutdown.timeout.ms": "\(pipeline.config.shutdownTimeoutMs)",
            ])
            fflush(nil)  // every stream, stderr among them
            _exit(75)
        }
        thread.name = "vigil-shutdown-watchdog"
        thread.start()
    }
}

/// A reference to a non-copyable value, to share an `Atomic` between closures.
final class Arc<Value: ~Copyable>: Sendable where Value: Sendable {
    let value: Value
    init(_ value: consuming Value) { self.value = value }
}

/// The pipeline stopped on its own and must not be restarted as it is (another deployment holds the Redis prefix).
public struct PipelineHalted: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
