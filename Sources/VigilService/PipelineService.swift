import Foundation
import ServiceLifecycle

/// Runs a `Pipeline` on its own thread (its librdkafka and hiredis calls block) as a lifecycle `Service`.
/// Graceful shutdown (SIGTERM/SIGINT in a `ServiceGroup`) or cancellation lets the batch in flight finish, store and
/// commit, then leaves the consumer group. If the pipeline stops on its own (another deployment holds the Redis
/// prefix), `run()` throws `PipelineHalted`, which ends the group and `vigil serve` with that reason.
public struct PipelineService: Service {
    public let pipeline: Pipeline

    public init(pipeline: Pipeline) { self.pipeline = pipeline }

    public func run() async throws {
        let pipeline = pipeline
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread {
                        pipeline.run()
                        done.resume()
                    }
                    thread.name = "vigil-pipeline"
                    thread.start()
                }
            } onGracefulShutdown: {
                pipeline.requestStop()
            }
        } onCancel: {
            pipeline.requestStop()
        }
        if let reason = pipeline.stats.snapshot.haltReason { throw PipelineHalted(reason: reason) }
    }
}

/// The pipeline stopped on its own and must not be restarted as it is (another deployment holds the Redis prefix).
public struct PipelineHalted: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}
