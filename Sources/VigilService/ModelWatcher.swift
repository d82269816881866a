import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// Reloads the models without stopping consumption: from their files when they change (polled), or from Redis when
/// a new version is published there (`ModelFollower`, polled); SIGHUP forces a reload either way.
public struct ModelWatcher: Service {
    enum Source {
        case files(ModelHolder)
        case redis(ModelFollower)
    }

    let source: Source
    let pollInterval: Duration
    let logger: Logger

    /// Follows the holder's files (`--model-source file`).
    public init(holder: ModelHolder, pollIntervalMs: Int, logger: Logger) {
        source = .files(holder)
        pollInterval = .milliseconds(pollIntervalMs)
        self.logger = logger
    }

    /// Follows the models published in Redis (`--model-source redis`).
    public init(following follower: ModelFollower, pollIntervalMs: Int, logger: Logger) {
        source = .redis(follower)
        pollInterval = .milliseconds(pollIntervalMs)
        self.logger = logger
    }

    public func run() async throws {
        let hangups = SignalCounter(signal: SIGHUP)
        defer { hangups.cancel() }
        var seen = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: pollInterval)
            let count = hangups.count
            let forced = count != seen
            seen = count
            if forced { logger.info("SIGHUP received, reloading the model") }
            switch source {
            case .files(let holder): holder.reloadIfChanged(force: forced, logger: logger)
            case .redis(let follower): await follower.pollOffThePool(force: forced)
            }
        }
    }
}

/// Counts deliveries of a signal through a dispatch source (the signal's default action is disabled).
final class SignalCounter: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let counter = Counter()

    init(signal number: Int32) {
        signal(number, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        let counter = counter
        source.setEventHandler { counter.increment() }
        source.resume()
    }

    var count: Int { counter.value }

    func cancel() { source.cancel() }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func increment() { lock.lock(); n += 1; lock.unlock() }
        var value: Int { lock.lock(); defer { lock.unlock() }; return n }
    }
}
