import Foundation
import Kafka
import Logging
import Redis
import Synchronization

/// Asks Redis and the broker once a second, each on a thread of its own and within a second or two, and keeps what
/// they answered in the pipeline's `ProbeState`, so that `/readyz` says within seconds why nothing could be decided
/// even while no records arrive, without a request ever waiting on them.
///
/// Redis is asked with a write (`SET {prefix}:probe` with a 10 s expiry): a Redis that answers `PING` but refuses
/// writes (out of memory, a read-only replica, unable to persist) cannot store a batch either. The broker is asked for
/// metadata through the pipeline's own consumer (the client whose connections matter), with the last error that
/// client reported (connection refused, name resolution, authentication) as the detail.
public final class ProbeWatch: Sendable {
    let pipeline: Pipeline
    let logger: Logger
    private let stopped = Atomic<Bool>(false)
    static let interval: TimeInterval = 1
    static let redisTimeoutMs = 1000
    static let brokerTimeoutMs = 1500

    public init(pipeline: Pipeline, logger: Logger) {
        self.pipeline = pipeline
        self.logger = logger
    }

    public func start() {
        let redis = Thread { [self] in watchRedis() }
        redis.name = "vigil-probe-redis"
        let broker = Thread { [self] in watchBroker() }
        broker.name = "vigil-probe-broker"
        redis.start()
        broker.start()
    }

    /// Ends both loops within their current question (at most a couple of seconds; nothing waits for them).
    public func stop() { stopped.store(true, ordering: .relaxed) }

    private var isStopped: Bool { stopped.load(ordering: .relaxed) }

    private func pause() {
        let deadline = Date().addingTimeInterval(Self.interval)
        while !isStopped, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    }

    private func watchRedis() {
        let config = pipeline.config
        var connection: (any RedisClient)?
        var last = RedisCondition.answering
        while !isStopped {
            let started = ContinuousClock.now
            let condition = Self.askRedis(&connection, endpoint: config.redisEndpoint, key: RedisKeys(prefix: config.redisPrefix).probe)
            if condition == .answering {
                let took = ContinuousClock.now - started
                pipeline.stats.metrics.recordRedisProbe(
                    nanos: UInt64(max(0, took.components.seconds)) * 1_000_000_000 + UInt64(max(0, took.components.attoseconds / 1_000_000_000)))
            }
            pipeline.probes.setRedis(condition)
            if condition.label != last.label {
                if condition == .answering {
                    logger.info("redis answers writes again")
                } else {
                    logger.warning("redis cannot take writes", metadata: ["cause": "\(condition.cause)", "detail": "\(condition.detail)"])
                }
                last = condition
            }
            pause()
        }
        connection?.close()
    }

    /// One probe write on `connection` (opened again if broken).
    static func askRedis(_ connection: inout (any RedisClient)?, endpoint: RedisEndpoint, key: String) -> RedisCondition {
        if connection == nil || connection!.isBroken {
            connection?.close()
            connection = nil
            let opened = Result { () throws(RedisError) in
                try endpoint.open(connectTimeoutMs: redisTimeoutMs, commandTimeoutMs: redisTimeoutMs)
            }
            switch opened {
            case .success(let c): connection = c
            case .failure(let error): return RedisCondition.of(error)
            }
        }
        let reply = Result { () throws(RedisError) in try connection!.send("SET", key, "1", "PX", "10000") }
        switch reply {
        case .success(.error(let text)): return RedisCondition.of(errorReply: text)
        case .success: return .answering
        case .failure(let error): return RedisCondition.of(error)
        }
    }

    private func watchBroker() {
        var last = BrokerCondition.unknown
        while !isStopped {
            let condition: BrokerCondition
            switch Result(catching: { () throws(KafkaError) in try pipeline.consumer.probeCluster(timeoutMs: Self.brokerTimeoutMs) }) {
            case .success: condition = .reachable
            case .failure(let error):
                let reported = pipeline.consumer.recentClientError(withinMs: 30_000).map { "\($0)" }
                condition = .unreachable(reported ?? "\(error)")
            }
            if isStopped { return }
            pipeline.probes.setBroker(condition)
            if !Self.sameKind(condition, last) {
                switch condition {
                case .reachable where last != .unknown: logger.info("broker reachable again")
                case .unreachable(let detail): logger.warning("broker unreachable", metadata: ["detail": "\(detail)"])
                default: break
                }
                last = condition
            }
            pause()
        }
    }

    static func sameKind(_ a: BrokerCondition, _ b: BrokerCondition) -> Bool {
        switch (a, b) {
        case (.unknown, .unknown), (.reachable, .reachable), (.unreachable, .unreachable): true
        default: false
        }
    }
}
