import Foundation
import ServiceLifecycle

/// Runs a `Pipeline` on its own thread (its librdkafka and hiredis calls block) as a lifecycle `Service`.
/// Graceful shutdown (SIGTERM/SIGINT in a `ServiceGroup`) or cancellation lets the batch in flight finish, store and
/// commit, then leaves the consumer group.
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
    }
}
