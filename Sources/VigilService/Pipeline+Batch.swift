import Foundation
import Kafka
import Logging
import VigilCore

extension Pipeline {
    /// One batch, the hot path: two Redis round trips (load, store) and one wait for Kafka (acks or the transaction's
    /// commit), whatever the batch size.
    func process(_ polled: [KafkaMessage]) throws {
        let model = models.model
        var shadow = ShadowScorer(models.shadow)  // a candidate scored beside the model, never deciding; nil if none
        let nowMs = Self.nowMs()
        var timer = StageTimer()

        var firstOffsets: [TopicPartition: Int64] = [:]
        for message in polled where firstOffsets[message.topicPartition] == nil {
            firstOffsets[message.topicPartition] = message.offset
        }
        rewoundThisBatch = []
        let rewound = try ensureOwned(firstOffsets)

        // Decode; skip what Redis says is already applied.
        var work: [(message: KafkaMessage, decoded: Result<Transaction, RejectReason>)] = []
        work.reserveCapacity(polled.count)
        var skipped = 0
        for message in polled where !rewound.contains(message.topicPartition) {
            if let applied = partitions[message.topicPartition]?.record.applied, message.offset <= applied {
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
        var owned: [(TopicPartition, PartitionRecord)] = []
        for tp in firstOffsets.keys where !rewound.contains(tp) {
            if let record = partitions[tp]?.record { owned.append((tp, record)) }
        }
        let blobs = try store.loadCards(cardIds, verifying: owned)
        var states = [CardState](repeating: CardState(), count: cardIds.count)
        for (i, blob) in blobs.enumerated() {
            guard let blob else { continue }
            do {
                states[i] = try CardState(decoding: blob)
            } catch {
                logger.error("unreadable card state, starting the card afresh", metadata: ["error": "\(error)"])
            }
        }
        var touched = [Bool](repeating: false, count: cardIds.count)
        timer.lap(.load)

        // Compute, per partition in offset order.
        var clocks: [TopicPartition: PartitionClock] = [:]
        for tp in firstOffsets.keys {
            clocks[tp] = PartitionClock(maxEventMs: partitions[tp]?.record.maxEventMs)
        }
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

        // Emit the outputs of records not emitted before, and wait until Kafka has them.
        var lastOffsets: [TopicPartition: Int64] = [:]
        for item in work { lastOffsets[item.message.topicPartition] = item.message.offset }
        let replayed = try emit(work.map(\.message), outcomes, lastOffsets: lastOffsets, shadow: &shadow, timer: &timer)
        for (tp, last) in lastOffsets { partitions.noteEmitted(tp, until: last + 1) }
        let emittedMs = Self.nowMs()

        // Store the cards and the partitions' offsets atomically, fenced by epoch and applied offset.
        var updates: [PartitionUpdate] = []
        for (tp, last) in lastOffsets {
            let expected = partitions[tp]!.record
            var updated = expected
            updated.applied = last
            updated.maxEventMs = clocks[tp]!.maxEventMs
            updates.append(PartitionUpdate(partition: tp, expected: expected, updated: updated))
        }
        var cards: [(cardId: String, blob: [UInt8])] = []
        for (i, id) in cardIds.enumerated() where touched[i] { cards.append((id, states[i].encoded())) }
        if !updates.isEmpty {
            try store.write(partitions: updates, cards: cards, ttlMs: config.features.stateTTLMs)
        }
        for update in updates { partitions[update.partition] = OwnedPartition(record: update.updated) }
        timer.lap(.store)

        // Offsets to Kafka, asynchronously: Redis is where Vigil restarts from. In exactly-once mode the transaction
        // already carried them; this plain commit repeats them for brokers that ignore transactional offsets (the
        // mock cluster) and is harmless on a real one.
        if !lastOffsets.isEmpty {
            do {
                try consumer.commit(lastOffsets.mapValues { $0 + 1 }, async: true)
            } catch {
                logger.warning("offset commit failed", metadata: ["error": "\(error)"])
            }
        }
        timer.lap(.commit)

        stats.update { s in
            for (stage, nanos) in timer.nanos {
                s.stageNanos[stage, default: 0] += nanos
                s.stageTimes[stage, default: DurationHistogram()].record(nanos: nanos)
            }
            s.batches += 1
            s.batchSizes.record(work.count)
            s.skippedAlreadyApplied += skipped
            s.replayedWithoutOutputs += replayed
            s.modelVersion = model.version
            s.record(shadow)
            for (item, outcome) in zip(work, outcomes) {
                switch outcome {
                case .decided(let d):
                    s.decided += 1
                    s.verdicts[d.verdict, default: 0] += 1
                    if let ts = item.message.timestampMs { s.latency.record(ms: emittedMs - ts) }
                case .late: s.late += 1
                case .rejected: s.rejected += 1
                }
            }
            for (tp, last) in lastOffsets { s.positions[tp] = last + 1 }
        }
    }
}
