import Synchronization

/// What `/healthz`, `/readyz` and the probe metrics answer from. The pipeline and the watches (`ProbeWatch`) keep it
/// current; a request only reads it, so a probe never waits on Redis or the broker.
public final class ProbeState: Sendable {
    struct Conditions {
        var redis = RedisCondition.answering
        var broker = BrokerCondition.unknown
        var progress: PipelineProgress
    }

    let conditions: Mutex<Conditions>

    public init(now: ContinuousClock.Instant = .now) {
        conditions = Mutex(Conditions(progress: PipelineProgress(at: now)))
    }

    /// The pipeline did something that shows it is not stuck (see `ProgressEvent`).
    func note(_ event: ProgressEvent, at now: ContinuousClock.Instant = .now) {
        conditions.withLock { $0.progress.note(event, at: now) }
    }

    func setRedis(_ condition: RedisCondition) { conditions.withLock { $0.redis = condition } }
    func setBroker(_ condition: BrokerCondition) { conditions.withLock { $0.broker = condition } }

    public var redis: RedisCondition { conditions.withLock { $0.redis } }
    public var broker: BrokerCondition { conditions.withLock { $0.broker } }
    var progress: PipelineProgress { conditions.withLock { $0.progress } }
}

/// Whether a broker answers the consumer's client.
public enum BrokerCondition: Equatable, Sendable {
    /// Not asked yet.
    case unknown
    case reachable
    /// No broker answered a metadata request in time; with the errors the client reported (refused, name resolution,
    /// authentication).
    case unreachable(String)
}

/// Something the pipeline did that shows it is not stuck. A pipeline is stuck when none happens for the stall bound:
/// a stage or the pipeline thread blocked in a call that does not return.
enum ProgressEvent: String, Sendable {
    case started = "started"
    /// The store stage stored a batch (its outputs are in Kafka).
    case stored = "stored a batch"
    /// A poll found nothing, with no lag: idle.
    case idle = "idle, nothing to process"
    /// A poll found nothing while the broker is unreachable: waiting for it, the lag is stale.
    case waitingForBroker = "waiting for the broker"
    /// A poll found nothing while records lie behind the high watermark on a reachable broker. With
    /// `read_committed` that is the normal wait behind a publisher's open transaction (the fetch stops at the last
    /// stable offset, which librdkafka does not expose); the pipeline thread is polling, so it is not stuck. The lag
    /// shows in `/readyz` (`--ready-max-lag`).
    case waitingForStableOffset = "waiting for records behind the high watermark (an open transaction upstream?)"
    /// The emit stage is still waiting for Kafka (acknowledgements, a transaction step): each wait is bounded.
    case waitingForKafka = "waiting for kafka"
    /// A step of waiting out a Redis outage (paused, asking Redis again).
    case waitingForRedis = "waiting for redis"
    /// Backing off before a failed batch is retried.
    case retrying = "retrying a failed batch"
    /// A partition's claim on assignment ended (claimed, or failed and left to its first batch).
    case claiming = "claiming an assigned partition"
}

/// When the pipeline last showed progress, and how.
struct PipelineProgress: Sendable {
    private(set) var last: ContinuousClock.Instant
    private(set) var lastEvent = ProgressEvent.started
    /// Why the last batch failed, until one is stored.
    private(set) var failure: String?

    init(at now: ContinuousClock.Instant) { last = now }

    mutating func note(_ event: ProgressEvent, at now: ContinuousClock.Instant) {
        last = max(last, now)
        lastEvent = event
        if event == .stored || event == .idle { failure = nil }
    }

    mutating func failed(_ error: String, at now: ContinuousClock.Instant) {
        failure = error
    }

    /// How long since the last progress.
    func quiet(at now: ContinuousClock.Instant) -> Duration { last.duration(to: now) }
}

extension ProbeState {
    /// A batch failed and is retried; `/readyz` says so until a batch is stored again.
    func noteFailure(_ error: String, at now: ContinuousClock.Instant = .now) {
        conditions.withLock { $0.progress.failed(error, at: now) }
    }
}

