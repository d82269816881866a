import Dispatch
import Foundation
import Kafka
import Logging
import Synchronization
import VigilCore

/// The hot path: consume a batch -> decode -> load card state -> features, score -> produce outputs -> store state
/// -> commit offsets. `run()` blocks its thread (the pipeline thread: poll to compute); encoding, emitting, and
/// storing and committing run in three stages on their own queues, overlapping the next batch's preparation
/// (`Pipeline+Overlap.swift`). `requestStop()` ends it after the batches in flight. The order of steps is what makes
/// crashes safe; see `docs/state.md` and `docs/guarantees.md`.
public final class Pipeline: @unchecked Sendable {
    let config: VigilConfig
    let models: ModelHolder
    let logger: Logger
    public let stats: PipelineStats
    /// What the probes answer from (`HealthService`): kept current by the pipeline and the watches.
    public let probes = ProbeState()
    /// Redis for the pipeline thread (load, claims, checks) and for the store stage (batch writes).
    let store: StateStore
    let stateWriter: StateStore
    /// The producer. Replaced after a fatal error, by the emit stage (inside a transaction run) or by the pipeline
    /// thread (recovering a failed batch, once every stage is idle): behind a lock, so that a replacement is a typed
    /// hand-over rather than a rule about which thread runs when. Each use reads it once.
    private let producerSlot: Mutex<KafkaProducer>
    var producer: KafkaProducer { producerSlot.withLock { $0 } }
    func replaceProducer(_ fresh: KafkaProducer) { producerSlot.withLock { $0 = fresh } }
    let consumer: KafkaConsumer
    let partitions = PartitionTable()
    let step: ScoringStep
    let stopRequested = Atomic<Bool>(false)
    /// When the stage waits give up after a stop request (uptime nanoseconds; 0: no stop requested yet).
    let stopDeadline = Atomic<UInt64>(0)
    /// Batches the encode stage handed to the emit queue that the emit stage has not taken yet (`TransactionCadence`:
    /// they join the transaction of the batch ahead of them).
    let queuedForEmit = Atomic<Int>(0)
    // Who touches what. The fields below without a lock belong to one thread each, and no other ever reads them:
    // - encode stage (`encodeQueue`, serial): `encoder`. Emit stage (`emitQueue`): `cadence`, `heldForTransaction`.
    //   Store stage (`storeQueue`): `stateWriter`. Pipeline thread: `store` (its Redis connection).
    // - pipeline thread (`run()` and the rebalance callbacks, which librdkafka calls inside `poll` on that thread):
    //   `consecutiveFailures`, `redisOutage`, `rewoundThisBatch`, `lastIdleCheck`, `inFlight`, `inFlightStates`,
    //   `cardCache`, `batchSequence`.
    // Shared between threads, each behind its own lock: `partitions` (`PartitionTable`), `lifecycle`
    // (`BatchesInFlight`), the producer slot, `stats`; `stopRequested`, `stopDeadline` and `queuedForEmit` are atomics; the served
    // merchant-risk version (`merchantRisk`, read once per batch by the pipeline thread).
    var encoder: OutputEncoder
    /// Exactly-once: when the emit stage begins the next transaction, and the batches it holds for it, in order.
    var cadence: TransactionCadence
    var heldForTransaction: [BatchToEmit] = []
    var consecutiveFailures = 0
    /// Set while Redis is unreachable: consumption is paused until it answers again.
    var redisOutage: RedisOutage?
    let transactionalId: String
    /// Partitions the batch in flight moved back to replay from Redis's end; a failed batch must not undo that.
    var rewoundThisBatch: Set<TopicPartition> = []
    /// When idle partitions were last checked against Redis.
    var lastIdleCheck = Date()
    /// Batches handed to the encode, emit and store stages and not yet settled, oldest first (at most three), and the state of
    /// the cards they changed (with the sequence number of the batch that changed each last).
    var inFlight: [InFlightBatch] = []
    var inFlightStates: [CardKey: InFlightCard] = [:]
    /// The cards of owned partitions as last stored (pipeline thread).
    var cardCache: OwnedCardCache
    var batchSequence = 0
    let encodeQueue = DispatchQueue(label: "vigil.pipeline.encode", qos: .userInitiated)
    let emitQueue = DispatchQueue(label: "vigil.pipeline.emit", qos: .userInitiated)
    let storeQueue = DispatchQueue(label: "vigil.pipeline.store", qos: .userInitiated)
    /// The phases of the batches in flight (`BatchesInFlight`): the stages report to it and do what it says.
    let lifecycle = Mutex(BatchesInFlight())
    /// Follows the merchant-risk snapshot in Redis (catalog 2; nil under catalog 1, which looks no merchant up).
    let merchantRisk: MerchantRiskFollower?

    public init(config: VigilConfig, models: ModelHolder, logger: Logger, stats: PipelineStats = PipelineStats()) throws {
        try config.validate()
        let catalog = config.featureCatalog
        guard models.catalog == catalog else {
            throw PipelineError.catalog("the models were loaded for feature \(models.catalog) but the pipeline runs \(catalog)")
        }
        for model in [models.model, models.shadow].compactMap({ $0 }) {
            do {
                try model.check(servedBy: catalog)
            } catch {
                throw PipelineError.catalog("model \(model.version): \(error)")
            }
        }
        self.config = config
        self.models = models
        self.logger = logger
        self.stats = stats
        step = ScoringStep(config: config.features)
        // A day short of the state's TTL: a cached card is never used after Redis may have expired its key.
        cardCache = OwnedCardCache(
            budgetBytes: config.cardCacheBytes, maxAgeMs: max(0, config.features.stateTTLMs - Windows.day))
        encoder = OutputEncoder(catalog: catalog)
        cadence = TransactionCadence(intervalMs: config.transactionIntervalMs, maxBatches: config.transactionMaxBatches)
        merchantRisk = catalog.needsMerchantRisk
            ? MerchantRiskFollower(
                endpoint: config.redisEndpoint, prefix: config.redisPrefix, logger: logger, stats: stats)
            : nil
        stats.update { $0.featureCatalog = catalog }
        models.reportRefusals(to: stats)
        store = StateStore(endpoint: config.redisEndpoint, prefix: config.redisPrefix)
        stateWriter = StateStore(endpoint: config.redisEndpoint, prefix: config.redisPrefix)
        transactionalId = config.transactionalId
            ?? "vigil-\(config.group)-\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        let producer = try Self.makeProducer(config, transactionalId: transactionalId)
        producerSlot = Mutex(producer)
        consumer = try KafkaConsumer(config: Self.consumerConfig(config))
        consumer.rebalanceHandler = RebalanceHandler(
            onAssign: { [unowned self] tps in assigned(tps) },
            onRevoke: { [unowned self] tps in revoked(tps) }
        )
        if config.mode == .exactlyOnce {
            try producer.initTransactions(timeoutMs: config.kafkaTimeoutMs)
        }
        // Learn the output topics' partitions now rather than stalling the first batch that writes to each.
        do {
            try producer.prepare(topics: config.topics.outputs, timeoutMs: 5000)
        } catch {
            logger.warning("could not fetch output topic metadata at start", metadata: ["error": "\(error)"])
        }
        try consumer.subscribe(topics: [config.topics.transactions])
    }

    static func makeProducer(_ config: VigilConfig, transactionalId: String) throws -> KafkaProducer {
        var properties = [
            "bootstrap.servers": config.brokers,
            "client.id": config.clientId,
            "enable.idempotence": "true",
            "linger.ms": "2",
            "socket.nagle.disable": "true",
            "queue.buffering.max.messages": "1000000",
            "message.timeout.ms": String(config.produceTimeoutMs),
        ]
        if config.mode == .exactlyOnce {
            properties["transactional.id"] = transactionalId
            properties["transaction.timeout.ms"] = String(max(60_000, config.produceTimeoutMs + 10_000))
        }
        if config.kafkaStatisticsIntervalMs > 0 { properties["statistics.interval.ms"] = String(config.kafkaStatisticsIntervalMs) }
        for (k, v) in config.producerKafkaProperties { properties[k] = v }
        return try KafkaProducer(config: properties)
    }

    static func consumerConfig(_ config: VigilConfig) -> [String: String] {
        var properties = [
            "bootstrap.servers": config.brokers,
            "client.id": config.clientId,
            "group.id": config.group,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
            "session.timeout.ms": String(config.sessionTimeoutMs),
            "heartbeat.interval.ms": String(max(100, config.sessionTimeoutMs / 6)),
            "fetch.wait.max.ms": "10",
            "socket.nagle.disable": "true",
            "isolation.level": "read_committed",
            "allow.auto.create.topics": "false",
        ]
        if config.kafkaStatisticsIntervalMs > 0 { properties["statistics.interval.ms"] = String(config.kafkaStatisticsIntervalMs) }
        for (k, v) in config.consumerKafkaProperties { properties[k] = v }
        return properties
    }

    /// Asks the pipeline to stop after the batches in flight. Their waits for Kafka give up at the shutdown bound
    /// minus a margin for leaving the group (`config.shutdownTimeoutMs`); what was not stored then is processed again
    /// by the next owner, as after a crash.
    public func requestStop() {
        let margin = UInt64(min(3000, config.shutdownTimeoutMs / 4)) * 1_000_000
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(config.shutdownTimeoutMs) * 1_000_000 - margin
        _ = stopDeadline.compareExchange(expected: 0, desired: deadline, ordering: .relaxed)
        stopRequested.store(true, ordering: .relaxed)
    }

    /// A stop was requested and its bound for waiting on Kafka has passed.
    var stopDeadlinePassed: Bool {
        let deadline = stopDeadline.load(ordering: .relaxed)
        return deadline != 0 && DispatchTime.now().uptimeNanoseconds >= deadline
    }

    public var isStopRequested: Bool { stopRequested.load(ordering: .relaxed) }

    /// Consumes until `requestStop()`, then leaves the group (revoking its partitions) and flushes the producer.
    public func run() {
        logger.info("pipeline started", metadata: [
            "brokers": "\(config.brokers)", "group": "\(config.group)", "topic": "\(config.topics.transactions)",
            "mode": "\(config.mode.rawValue)", "model.version": "\(models.model.version)",
        ])
        stats.update {
            $0.modelVersion = models.model.version
            $0.mode = config.mode
        }
        merchantRisk?.start(intervalMs: config.modelPollMs)
        defer { merchantRisk?.stop() }
        while !isStopRequested {
            if redisOutage != nil {
                if let failed = settleInFlight() { recover(from: failed.error, retryFrom: failed.retryFrom) }
                waitOutRedisOutage()
                continue
            }
            let messages: [KafkaMessage]
            let pollStart = DispatchTime.now().uptimeNanoseconds
            do {
                messages = try consumer.pollBatch(maxMessages: config.batchSize, timeoutMs: config.batchWaitMs)
            } catch {
                logger.error("consumer poll failed", metadata: ["error": "\(error)"])
                stats.update { $0.lastError = "consumer poll: \(error)" }
                if let failed = settleInFlight() { recover(from: failed.error, retryFrom: failed.retryFrom) }
                backOff()
                continue
            }
            guard !messages.isEmpty else {
                if let failed = settleInFlight() {
                    recover(from: failed.error, retryFrom: failed.retryFrom)
                } else {
                    checkIdlePartitions()
                    noteEmptyPoll()
                }
                continue
            }
            let pollNanos = DispatchTime.now().uptimeNanoseconds - pollStart
            stats.update { $0.stageNanos[.poll, default: 0] += pollNanos }
            handle(messages)
        }
        if let failed = settleInFlight() {
            logger.warning("last batch failed while stopping; its records are processed again after a restart", metadata: [
                "error": "\(failed.error)",
            ])
        }
        do { try consumer.close() } catch { logger.warning("consumer close failed", metadata: ["error": "\(error)"]) }
        if config.mode == .atLeastOnce { _ = try? producer.flush(timeoutMs: 1000) }
        logger.info("pipeline stopped", metadata: ["processed": "\(stats.snapshot.processed)"])
    }

    /// Prepares a polled batch while earlier ones are emitted and stored, then hands it over (see
    /// `Pipeline+Overlap.swift`). A failure of any throws all of them away and rewinds to the earliest first offsets.
    func handle(_ messages: [KafkaMessage]) {
        let prepared: PreparedBatch
        do {
            prepared = try prepare(messages, after: inFlight.map(\.batch))
        } catch {
            var retryFrom = Self.firstOffsets(of: messages)
            for tp in rewoundThisBatch { retryFrom[tp] = nil }
            if let failed = settleInFlight() {
                // Redis's answer (a fence, an outage) is the more specific cause when the load saw one.
                let cause = error is StateStoreError && !(failed.error is KafkaError) ? error : failed.error
                recover(from: cause, retryFrom: Self.earliest(failed.retryFrom, retryFrom))
            } else {
                recover(from: error, retryFrom: retryFrom)
            }
            return
        }
        if let failed = makeRoomForNextBatch() {
            var retryFrom = Self.earliest(failed.retryFrom, prepared.retryFrom)
            for tp in rewoundThisBatch { retryFrom[tp] = nil }  // already moved back to replay
            recover(from: failed.error, retryFrom: retryFrom)
            return
        }
        startCompletion(of: prepared)
        if !config.overlapBatches, let failed = settleInFlight() {
            recover(from: failed.error, retryFrom: failed.retryFrom)
        }
    }

    static func firstOffsets(of messages: [KafkaMessage]) -> [TopicPartition: Int64] {
        var first: [TopicPartition: Int64] = [:]
        for message in messages where first[message.topicPartition] == nil {
            first[message.topicPartition] = message.offset
        }
        return first
    }

    /// Milliseconds since the epoch.
    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Measures consecutive stages of a batch.
struct StageTimer {
    var last = DispatchTime.now().uptimeNanoseconds
    var nanos: [(PipelineStage, UInt64)] = []

    mutating func lap(_ stage: PipelineStage) {
        let now = DispatchTime.now().uptimeNanoseconds
        nanos.append((stage, now - last))
        last = now
    }
}

public enum PipelineError: Error, CustomStringConvertible {
    case delivery(String)
    /// A batch has records of a partition this instance holds no claim on (it is claimed again on retry).
    case notOwned(TopicPartition)
    /// Kafka refuses an output even in its smallest form (a topic configured smaller than Vigil's own messages).
    case refused(String)
    /// The stop request's bound passed before the batch's outputs were out; its records are processed again.
    case shutdownBound(String)
    /// The emit stage aborted this many transactions in a row for the same batches.
    case transactionAborted(Int)
    /// The models cannot be served by the running feature catalog.
    case catalog(String)

    public var description: String {
        switch self {
        case .delivery(let s): "delivery failed: \(s)"
        case .notOwned(let tp): "partition \(tp) is not claimed"
        case .refused(let s): "output refused: \(s)"
        case .shutdownBound(let s): "stopping: shutdown bound reached (\(s))"
        case .transactionAborted(let n): "Kafka transaction aborted \(n) times in a row"
        case .catalog(let s): "feature catalog: \(s)"
        }
    }
}
