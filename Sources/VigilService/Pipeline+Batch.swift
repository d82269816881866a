import Foundation
import Kafka
import Logging
import VigilCore

/// A batch after its CPU work on the pipeline thread: decoded, the cards' state loaded and advanced, every record's
/// outcome known and its outputs encoded. What is left (emit the outputs, store the state, commit the offsets) runs
/// in the emit and store stages while the pipeline thread prepares the next batch (`Pipeline+Overlap.swift`).
struct PreparedBatch: @unchecked Sendable {
    /// The records worked on (not skipped as already applied, not dropped by a rewind), in polled order.
    var messages: [KafkaMessage]
    var outcomes: [RecordOutcome]
    /// Per partition, the offset of its last record in `messages`.
    var lastOffsets: [TopicPartition: Int64]
    /// The partition records to write, fenced by the records they replace.
    var updates: [PartitionUpdate]
    /// The state of every card a decision changed, to be stored.
    var cards: [(cardId: String, state: CardState)]
    /// The outputs of the records not emitted before, encoded.
    var outputs: OutputBatch
    /// Records replayed into the state without outputs (emitted before).
    var replayed: Int
    /// The shadow model's verdicts for this batch, if one is set.
    var shadow: ShadowScorer?
    /// Where to rewind if the batch fails: each partition's first polled offset (partitions rewound while
    /// preparing are left out: they were already moved back).
    var retryFrom: [TopicPartition: Int64]
    var skipped: Int
    var modelVersion: String
    var stageNanos: [(PipelineStage, UInt64)]
}

extension Pipeline {
    /// The pipeline thread's part of a batch: decode, one Redis round trip (load), compute, encode the outputs. Card state comes
    /// from the batch still in flight when it touched the card (Redis may not have it yet), otherwise from Redis;
    /// partition records likewise.
    func prepare(_ polled: [KafkaMessage], after inFlight: [PreparedBatch]) throws -> PreparedBatch {
        let model = models.model
        let nowMs = Self.nowMs()
        var timer = StageTimer()

        var firstOffsets: [TopicPartition: Int64] = [:]
        for message in polled where firstOffsets[message.topicPartition] == nil {
            firstOffsets[message.topicPartition] = message.offset
        }
        rewoundThisBatch = []
        let rewound = try ensureOwned(firstOffsets)

        // What Redis will hold for each partition once the batches in flight are stored: this batch's fence.
        var inFlightRecords: [TopicPartition: PartitionRecord] = [:]
        var interim: [TopicPartition: [PartitionRecord]] = [:]
        for batch in inFlight {
            for update in batch.updates {
                inFlightRecords[update.partition] = update.updated
                interim[update.partition, default: []].append(update.updated)
            }
        }
        func projected(_ tp: TopicPartition) -> PartitionRecord? { inFlightRecords[tp] ?? partitions[tp]?.record }

        // Decode; skip what Redis says is already applied.
        var work: [(message: KafkaMessage, decoded: Result<Transaction, RejectReason>)] = []
        work.reserveCapacity(polled.count)
        var skipped = 0
        for message in polled where !rewound.contains(message.topicPartition) {
            if let applied = projected(message.topicPartition)?.applied, message.offset <= applied {
                skipped += 1
                continue
            }
            work.append((message, TransactionDecoder.decode(value: message.value, key: message.key)))
        }
        timer.lap(.decode)

        // Load the cards' state: one MGET for the cards the batch in flight did not touch, in the same round trip as
        // the check that Redis still has every partition as this instance left it (or as the batch in flight will).
        var cardIndex: [String: Int] = [:]
        var cardIds: [String] = []
        for item in work {
            if case .success(let tx) = item.decoded, cardIndex[tx.cardId] == nil {
                cardIndex[tx.cardId] = cardIds.count
                cardIds.append(tx.cardId)
            }
        }
        var states = [CardState](repeating: CardState(), count: cardIds.count)
        var toLoad: [Int] = []
        toLoad.reserveCapacity(cardIds.count)
        for (i, id) in cardIds.enumerated() {
            if let cached = inFlightStates[id] { states[i] = cached.state } else { toLoad.append(i) }
        }
        var owned: [(TopicPartition, [PartitionRecord])] = []
        for tp in firstOffsets.keys where !rewound.contains(tp) {
            var acceptable: [PartitionRecord] = []
            if let confirmed = partitions[tp]?.record { acceptable.append(confirmed) }
            acceptable += interim[tp] ?? []
            if !acceptable.isEmpty { owned.append((tp, acceptable)) }
        }
        let blobs = try store.loadCards(toLoad.map { cardIds[$0] }, verifying: owned)
        for (slot, blob) in zip(toLoad, blobs) {
            guard let blob else { continue }
            do {
                states[slot] = try CardState(decoding: blob)
            } catch {
                logger.error("unreadable card state, starting the card afresh", metadata: ["error": "\(error)"])
            }
        }
        var touched = [Bool](repeating: false, count: cardIds.count)
        timer.lap(.load)

        // Compute, per partition in offset order.
        var clocks: [TopicPartition: PartitionClock] = [:]
        for tp in firstOffsets.keys {
            clocks[tp] = PartitionClock(maxEventMs: projected(tp)?.maxEventMs)
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

        var lastOffsets: [TopicPartition: Int64] = [:]
        for item in work { lastOffsets[item.message.topicPartition] = item.message.offset }
        var updates: [PartitionUpdate] = []
        for (tp, last) in lastOffsets {
            let expected = projected(tp)!
            var updated = expected
            updated.applied = last
            updated.maxEventMs = clocks[tp]!.maxEventMs
            updates.append(PartitionUpdate(partition: tp, expected: expected, updated: updated))
        }
        var cards: [(cardId: String, state: CardState)] = []
        for (i, id) in cardIds.enumerated() where touched[i] { cards.append((id, states[i])) }
        timer.lap(.compute)

        var shadow = ShadowScorer(models.shadow)  // a candidate scored beside the model, never deciding; nil if none
        let (outputs, replayed) = encodeOutputs(work.map(\.message), outcomes, shadow: &shadow)
        timer.lap(.encode)

        var retryFrom = firstOffsets
        for tp in rewoundThisBatch { retryFrom[tp] = nil }
        return PreparedBatch(
            messages: work.map(\.message), outcomes: outcomes, lastOffsets: lastOffsets, updates: updates, cards: cards,
            outputs: outputs, replayed: replayed, shadow: shadow, retryFrom: retryFrom, skipped: skipped, modelVersion: model.version, stageNanos: timer.nanos)
    }

    /// Emit stage: produces the outputs of records not emitted before and waits until Kafka has them (acknowledged,
    /// or committed in a transaction with the offsets), then remembers them as emitted.
    func emitOutputs(of batch: PreparedBatch) throws {
        var timer = StageTimer()
        try emit(batch.outputs, lastOffsets: batch.lastOffsets, timer: &timer)
        for (tp, last) in batch.lastOffsets { partitions.noteEmitted(tp, until: last + 1) }
        record(timer)
    }

    /// Store stage (after the batch's emit stage): stores the cards and the partitions' offsets in one atomic script
    /// fenced by epoch and applied offset, then commits the offsets to Kafka and counts the batch.
    func store(_ batch: PreparedBatch, emittedMs: Int64) throws {
        var timer = StageTimer()
        if !batch.updates.isEmpty {
            let cards = batch.cards.map { (cardId: $0.cardId, blob: $0.state.encoded()) }
            try stateWriter.write(partitions: batch.updates, cards: cards, ttlMs: config.features.stateTTLMs)
        }
        for update in batch.updates { partitions[update.partition] = OwnedPartition(record: update.updated) }
        timer.lap(.store)

        // Offsets to Kafka, asynchronously: Redis is where Vigil restarts from. In exactly-once mode the transaction
        // already carried them; this plain commit repeats them for brokers that ignore transactional offsets (the
        // mock cluster) and is harmless on a real one.
        if !batch.lastOffsets.isEmpty {
            do {
                try consumer.commit(batch.lastOffsets.mapValues { $0 + 1 }, async: true)
            } catch {
                logger.warning("offset commit failed", metadata: ["error": "\(error)"])
            }
        }
        timer.lap(.commit)

        record(timer, batch: batch)
        stats.update { s in
            s.batches += 1
            s.batchSizes.record(batch.messages.count)
            s.skippedAlreadyApplied += batch.skipped
            s.replayedWithoutOutputs += batch.replayed
            s.modelVersion = batch.modelVersion
            s.record(batch.shadow)
            for (message, outcome) in zip(batch.messages, batch.outcomes) {
                switch outcome {
                case .decided(let d):
                    s.decided += 1
                    s.verdicts[d.verdict, default: 0] += 1
                    if let ts = message.timestampMs { s.latency.record(ms: emittedMs - ts) }
                case .late: s.late += 1
                case .rejected: s.rejected += 1
                }
            }
            for (tp, last) in batch.lastOffsets { s.positions[tp] = last + 1 }
        }
    }

    /// Adds stage times to the stats (with `batch`, also the pipeline thread's stages of that batch).
    func record(_ timer: StageTimer, batch: PreparedBatch? = nil) {
        stats.update { s in
            for (stage, nanos) in (batch?.stageNanos ?? []) + timer.nanos {
                s.stageNanos[stage, default: 0] += nanos
                s.stageTimes[stage, default: DurationHistogram()].record(nanos: nanos)
            }
        }
    }
}
