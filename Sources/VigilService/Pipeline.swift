import Dispatch
import Foundation
import Kafka
import Logging
import Synchronization
import VigilCore

/// The hot path: consume a batch -> decode -> load card state -> features, score -> produce outputs -> store state
/// -> commit offsets. One instance runs on one thread (`run()` blocks); `requestStop()` ends it after the batch in
/// flight. The order of steps is what makes crashes safe; see `docs/state.md`.
public final class Pipeline: @unchecked Sendable {
    let config: VigilConfig
    let models: ModelHolder
    let logger: Logger
    public let stats: PipelineStats
    let store: StateStore
    let producer: KafkaProducer
    let consumer: KafkaConsumer
    let partitions = PartitionTable()
    let step: ScoringStep
    let stopRequested = Atomic<Bool>(false)
    var encoder = OutputEncoder()
    var consecutiveFailures = 0

    public init(config: VigilConfig, models: ModelHolder, logger: Logger, stats: PipelineStats = PipelineStats()) throws {
        try config.validate()
        self.config = config
        self.models = models
        self.logger = logger
        self.stats = stats
        step = ScoringStep(config: config.features)
        store = StateStore(host: config.redisHost, port: config.redisPort, prefix: config.redisPrefix)

        var producerConfig = [
            "bootstrap.servers": config.brokers,
            "client.id": config.clientId,
            "enable.idempotence": "true",
            "linger.ms": "2",
            "socket.nagle.disable": "true",
            "queue.buffering.max.messages": "1000000",
            "message.timeout.ms": String(config.produceTimeoutMs),
        ]
        var consumerConfig = [
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
        ]
        for (k, v) in config.kafkaProperties {
            producerConfig[k] = v
            consumerConfig[k] = v
        }
        producer = try KafkaProducer(config: producerConfig)
        let table = partitions
        let store = store
        let logger = logger
        let stats = stats
        consumer = try KafkaConsumer(config: consumerConfig, rebalance: RebalanceHandler(
            onAssign: { tps in
                var starts: [TopicPartition: Int64] = [:]
                for tp in tps {
                    do {
                        let record = try store.loadPartition(tp)
                        table[tp] = record
                        if let applied = record.applied { starts[tp] = applied + 1 }
                    } catch {
                        // The batch path loads it again before using the partition.
                        logger.warning("could not read partition state on assignment", metadata: [
                            "partition": "\(tp)", "error": "\(error)",
                        ])
                    }
                }
                logger.info("partitions assigned", metadata: [
                    "partitions": "\(tps.sorted().map(\.description).joined(separator: ","))",
                    "starts": "\(starts.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ","))",
                ])
                stats.update { $0.assignedPartitions += tps.count }
                return starts
            },
            onRevoke: { tps in
                table.remove(tps)
                logger.info("partitions revoked", metadata: [
                    "partitions": "\(tps.sorted().map(\.description).joined(separator: ","))",
                ])
                stats.update { $0.assignedPartitions = max(0, $0.assignedPartitions - tps.count) }
            }
        ))
        try consumer.subscribe(topics: [config.topics.transactions])
    }

    public func requestStop() { stopRequested.store(true, ordering: .relaxed) }

    public var isStopRequested: Bool { stopRequested.load(ordering: .relaxed) }

    /// Consumes until `requestStop()`, then leaves the group (revoking its partitions) and flushes the producer.
    public func run() {
        logger.info("pipeline started", metadata: [
            "brokers": "\(config.brokers)", "group": "\(config.group)", "topic": "\(config.topics.transactions)",
            "model.version": "\(models.model.version)",
        ])
        stats.update { $0.modelVersion = models.model.version }
        while !isStopRequested {
            let messages: [KafkaMessage]
            do {
                let pollStart = DispatchTime.now().uptimeNanoseconds
                messages = try consumer.pollBatch(maxMessages: config.batchSize, timeoutMs: config.batchWaitMs)
                if !messages.isEmpty {
                    let pollNanos = DispatchTime.now().uptimeNanoseconds - pollStart
                    stats.update { $0.stageNanos[.poll, default: 0] += pollNanos }
                }
            } catch {
                logger.error("consumer poll failed", metadata: ["error": "\(error)"])
                backOff()
                continue
            }
            guard !messages.isEmpty else { continue }
            do {
                try process(messages)
                consecutiveFailures = 0
            } catch {
                recover(from: error, batch: messages)
            }
        }
        do { try consumer.close() } catch { logger.warning("consumer close failed", metadata: ["error": "\(error)"]) }
        _ = try? producer.flush(timeoutMs: 5000)
        logger.info("pipeline stopped", metadata: ["processed": "\(stats.snapshot.processed)"])
    }

    /// One batch, the hot path.
    func process(_ messages: [KafkaMessage]) throws {
        let model = models.model
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        var timer = StageTimer()

        // Partition records (normally cached since assignment).
        var records: [TopicPartition: PartitionRecord] = [:]
        for message in messages where records[message.topicPartition] == nil {
            let tp = message.topicPartition
            if let known = partitions[tp] {
                records[tp] = known
            } else {
                let loaded = try store.loadPartition(tp)
                partitions[tp] = loaded
                records[tp] = loaded
            }
        }

        // Decode; skip what Redis says is already applied.
        var work: [(message: KafkaMessage, decoded: Result<Transaction, RejectReason>)] = []
        work.reserveCapacity(messages.count)
        var skipped = 0
        for message in messages {
            if let applied = records[message.topicPartition]?.applied, message.offset <= applied {
                skipped += 1
                continue
            }
            work.append((message, TransactionDecoder.decode(value: message.value, key: message.key)))
        }
        timer.lap(.decode)

        // Load the cards' state: one MGET.
        var cardIndex: [String: Int] = [:]
        var cardIds: [String] = []
        for item in work {
            if case .success(let tx) = item.decoded, cardIndex[tx.cardId] == nil {
                cardIndex[tx.cardId] = cardIds.count
                cardIds.append(tx.cardId)
            }
        }
        let blobs = try store.loadCards(cardIds)
        var states = [CardState](repeating: CardState(), count: cardIds.count)
        for (i, blob) in blobs.enumerated() {
            guard let blob else { continue }
            do {
                states[i] = try CardState(decoding: blob)
            } catch {
                logger.error("unreadable card state, starting the card afresh", metadata: ["error": "\(error)"])
            }
        }
        timer.lap(.load)
        var touched = [Bool](repeating: false, count: cardIds.count)

        // Compute, per partition in offset order.
        var clocks: [TopicPartition: PartitionClock] = [:]
        for (tp, record) in records { clocks[tp] = PartitionClock(maxEventMs: record.maxEventMs) }
        var outcomes: [RecordOutcome] = []
        outcomes.reserveCapacity(work.count)
        for item in work {
            switch item.decoded {
            case .failure(let reason):
                outcomes.append(.rejected(reason))
            case .success(let tx):
                let i = cardIndex[tx.cardId]!
                let outcome = step.process(
                    tx, state: &states[i], clock: &clocks[item.message.topicPartition]!, model: model, nowMs: nowMs)
                if case .decided = outcome { touched[i] = true }
                outcomes.append(outcome)
            }
        }
        timer.lap(.compute)

        // Produce and wait for the broker's acknowledgement of every output.
        for (item, outcome) in zip(work, outcomes) {
            try produce(outcome, for: item.message)
        }
        timer.lap(.enqueue)
        let delivery = try producer.flush(timeoutMs: config.produceTimeoutMs)
        if delivery.failed > 0 {
            throw PipelineError.delivery(
                "\(delivery.failed) outputs not delivered: \(delivery.errors.map(\.description).joined(separator: "; "))")
        }
        let ackedMs = Int64(Date().timeIntervalSince1970 * 1000)
        timer.lap(.produce)

        // Store the cards and the partitions' offsets atomically.
        var lastOffsets: [TopicPartition: Int64] = [:]
        for item in work { lastOffsets[item.message.topicPartition] = item.message.offset }
        var updates: [PartitionUpdate] = []
        for (tp, last) in lastOffsets {
            let expected = records[tp]!
            updates.append(PartitionUpdate(
                partition: tp, expected: expected,
                updated: PartitionRecord(applied: last, maxEventMs: clocks[tp]!.maxEventMs)))
        }
        var cards: [(cardId: String, blob: [UInt8])] = []
        for (i, id) in cardIds.enumerated() where touched[i] { cards.append((id, states[i].encoded())) }
        if !updates.isEmpty {
            try store.write(partitions: updates, cards: cards, ttlMs: config.features.stateTTLMs)
        }
        for update in updates { partitions[update.partition] = update.updated }
        timer.lap(.store)

        // Offsets to Kafka, asynchronously: Redis is where Vigil restarts from.
        if !lastOffsets.isEmpty {
            do {
                try consumer.commit(lastOffsets.mapValues { $0 + 1 }, async: true)
            } catch {
                logger.warning("offset commit failed", metadata: ["error": "\(error)"])
            }
        }
        timer.lap(.commit)

        stats.update { s in
            for (stage, nanos) in timer.nanos { s.stageNanos[stage, default: 0] += nanos }
            s.batches += 1
            s.skippedAlreadyApplied += skipped
            s.modelVersion = model.version
            for (item, outcome) in zip(work, outcomes) {
                switch outcome {
                case .decided(let d):
                    s.decided += 1
                    s.verdicts[d.verdict, default: 0] += 1
                    if let ts = item.message.timestampMs { s.latency.record(ms: ackedMs - ts) }
                case .late: s.late += 1
                case .rejected: s.rejected += 1
                }
            }
        }
    }

    func produce(_ outcome: RecordOutcome, for message: KafkaMessage) throws {
        let topics = config.topics
        switch outcome {
        case .decided(let d):
            let txKey = Array(d.transaction.transactionId.utf8)
            let decision = encoder.decision(d)
            try producer.produce(topic: topics.decisions, key: txKey, value: decision)
            if d.raisesAlert {
                try producer.produce(topic: topics.alerts, key: Array(d.transaction.cardId.utf8), value: decision)
            }
            try producer.produce(topic: topics.features, key: txKey, value: encoder.featureRecord(d))
        case .late(let tx, let watermark, let behind):
            try producer.produce(topic: topics.late, key: Array(tx.cardId.utf8), value: message.value, headers: [
                KafkaHeader(name: "vigil.source", value: Array(source(of: message).utf8)),
                KafkaHeader(name: "vigil.watermark_ms", value: Array(String(watermark).utf8)),
                KafkaHeader(name: "vigil.behind_watermark_ms", value: Array(String(behind).utf8)),
            ])
        case .rejected(let reason):
            try producer.produce(topic: topics.dlq, key: message.key, value: message.value, headers: [
                KafkaHeader(name: "vigil.error", value: Array(reason.code.utf8)),
                KafkaHeader(name: "vigil.source", value: Array(source(of: message).utf8)),
            ])
        }
    }

    func source(of message: KafkaMessage) -> String { "\(message.topic)/\(message.partition)/\(message.offset)" }

    /// A batch failed before its state was stored: nothing of it counts. Rewind its partitions to where Redis says
    /// they are and try again after a pause.
    func recover(from error: any Error, batch: [KafkaMessage]) {
        consecutiveFailures += 1
        let fenced: Bool
        if case StateStoreError.fenced = error { fenced = true } else { fenced = false }
        logger.error("batch failed, retrying", metadata: [
            "error": "\(error)", "records": "\(batch.count)", "attempt": "\(consecutiveFailures)",
        ])
        stats.update { s in
            s.retriedBatches += 1
            if fenced { s.fencedBatches += 1 }
            s.lastError = "\(error)"
        }
        var firstOffsets: [TopicPartition: Int64] = [:]
        for message in batch where firstOffsets[message.topicPartition] == nil {
            firstOffsets[message.topicPartition] = message.offset
        }
        // After a fence, Redis's record is the truth: forget the cached one so it is read again.
        if fenced { partitions.remove(Array(firstOffsets.keys)) }
        for (tp, offset) in firstOffsets {
            do {
                try consumer.seek(tp, to: offset, timeoutMs: 5000)
            } catch {
                logger.warning("seek back failed", metadata: ["partition": "\(tp)", "error": "\(error)"])
            }
        }
        backOff()
    }

    func backOff() {
        let ms = min(5000, 100 << min(consecutiveFailures, 6))
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < deadline, !isStopRequested { Thread.sleep(forTimeInterval: 0.05) }
    }
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

    public var description: String {
        switch self {
        case .delivery(let s): "delivery failed: \(s)"
        }
    }
}
