import Foundation
import Kafka
import Logging
import VigilCore

/// A batch after its CPU work on the pipeline thread: decoded, the cards' state loaded and advanced, every record's
/// outcome known. What is left (encode and emit the outputs, store the state, commit the offsets) runs in the encode,
/// emit and store stages while the pipeline thread prepares the next batch (`Pipeline+Overlap.swift`).
struct PreparedBatch: @unchecked Sendable {
    /// The records worked on (not skipped as already applied, not dropped by a rewind), in polled order.
    var messages: [KafkaMessage]
    var outcomes: [RecordOutcome]
    /// Per partition, the offset of its last record in `messages`.
    var lastOffsets: [TopicPartition: Int64]
    /// The partition records to write, fenced by the records they replace.
    var updates: [PartitionUpdate]
    /// Every card a decision changed (per partition: `CardKey`) and its state, to be stored; two arrays, so that
    /// walking the keys copies no state.
    var cardKeys: [CardKey]
    var cardStates: [CardState]
    /// Per record of `messages`, its partition's index in `slotPartitions`.
    var recordSlots: [Int]
    var slotPartitions: [TopicPartition]
    /// Where to rewind if the batch fails: each partition's first polled offset (partitions rewound while
    /// preparing are left out: they were already moved back).
    var retryFrom: [TopicPartition: Int64]
    var skipped: Int
    /// Records on another partition than the input partitioner gives their key (`Pipeline+Routing.swift`).
    var misrouted: Int
    var modelVersion: String
    var stageNanos: [(PipelineStage, UInt64)]
}

/// Where a batch takes a card's state from.
enum CardSource {
    /// An unfinished batch changed it (Redis may not have that state yet).
    case unfinished(InFlightCard)
    /// Stored since its partition was claimed (`OwnedCardCache`).
    case cached(CardState)
    /// Its slot in the load's reply.
    case redis(Int)
}

/// The batch in flight that last changed a card, and the card's place in that batch's `cardStates`.
struct InFlightCard {
    var sequence: Int
    var index: Int
}

extension Pipeline {
    /// The state an unfinished batch left a card in.
    func unfinishedState(_ card: InFlightCard) -> CardState {
        guard let handle = inFlight.first(where: { $0.sequence == card.sequence }) else {
            preconditionFailure("a card changed by a batch in flight names a batch that is not in flight")
        }
        return handle.batch.cardStates[card.index]
    }

    /// The pipeline thread's part of a batch: decode, one Redis round trip (load), compute. Card
    /// state comes from the batches in flight when they touched the card (Redis may not have it yet), otherwise from
    /// Redis; partition records likewise.
    func prepare(_ polled: [KafkaMessage], after inFlight: [PreparedBatch]) throws -> PreparedBatch {
        let model = models.model
        // One merchant-risk snapshot for the whole batch (catalog 2): every record is scored with, and names, it.
        let snapshot = merchantRisk?.current
        let nowMs = Self.nowMs()
        var timer = StageTimer()

        // The batch's partitions, numbered: per-record work indexes arrays instead of hashing a TopicPartition.
        var parts = BatchPartitions()
        var polledSlots: [Int] = []
        polledSlots.reserveCapacity(polled.count)
        var firstOffsets: [Int64] = []
        for message in polled {
            let slot = parts.slot(of: message)
            if slot == firstOffsets.count { firstOffsets.append(message.offset) }
            polledSlots.append(slot)
        }
        rewoundThisBatch = []
        let rewoundSet = try ensureOwned(parts.dictionary(firstOffsets))
        let rewound = parts.all.map { rewoundSet.contains($0) }

        // What Redis will hold for each partition once the batches in flight are stored: this batch's fence.
        var interim: [TopicPartition: [PartitionRecord]] = [:]
        for batch in inFlight {
            for update in batch.updates { interim[update.partition, default: []].append(update.updated) }
        }
        let confirmed = parts.all.map { partitions.record($0) }
        let projected = parts.all.indices.map { interim[parts.all[$0]]?.last ?? confirmed[$0] }

        // The records to work on: not dropped by a rewind, not already applied according to Redis.
        var messages: [KafkaMessage] = []
        var slots: [Int] = []
        messages.reserveCapacity(polled.count)
        slots.reserveCapacity(polled.count)
        var skipped = 0
        for (message, slot) in zip(polled, polledSlots) where !rewound[slot] {
            if let applied = projected[slot]?.applied, message.offset <= applied {
                skipped += 1
                continue
            }
            messages.append(message)
            slots.append(slot)
        }

        // Their cards' state is fetched by the records' partitions and keys (card state is per partition; the
        // contract keys transactions by card_id, and the decoder rejects a record whose key is not its card_id), so
        // the load is sent before decoding and Redis answers while the records are decoded. Each card is fetched
        // once; cards an unfinished batch changed, or stored since their partition was claimed (`cardCache`), are
        // taken from memory instead.
        // Each card gets a number the first time one of its records comes; later records of it, and the decode
        // below, use the number (one hash of the card key per record).
        var recordCards = [Int](repeating: -1, count: messages.count)  // record -> index into cardKeys
        var cardIndex: [CardKey: Int] = [:]
        cardIndex.reserveCapacity(messages.count)
        var cardKeys: [CardKey] = []
        var sources: [CardSource] = []
        var keys: [(partition: Int32, idBytes: [UInt8])] = []
        keys.reserveCapacity(messages.count)
        let anyUnfinished = !inFlightStates.isEmpty, anyCached = cardCache.count > 0
        for (j, message) in messages.enumerated() {
            // A record without a key, or whose key is not UTF-8, cannot match its card_id: the decoder rejects it.
            guard let key = message.key, let id = String(validating: key, as: UTF8.self) else { continue }
            let card = CardKey(partition: parts.all[slots[j]].partition, cardId: id)
            if let i = cardIndex[card] {
                recordCards[j] = i
                continue
            }
            let source: CardSource
            if anyUnfinished, let unfinished = inFlightStates[card] {
                source = .unfinished(unfinished)
            } else if anyCached, let state = cardCache.take(card, nowMs: nowMs) {
                source = .cached(state)
            } else {
                source = .redis(keys.count)
                keys.append((card.partition, key))
            }
            recordCards[j] = cardKeys.count
            cardIndex[card] = cardKeys.count
            cardKeys.append(card)
            sources.append(source)
        }
        var owned: [(TopicPartition, [PartitionRecord])] = []
        for (slot, tp) in parts.all.enumerated() where !rewound[slot] {
            let acceptable = (confirmed[slot].map { [$0] } ?? []) + (interim[tp] ?? [])
            if !acceptable.isEmpty { owned.append((tp, acceptable)) }
        }
        var pendingLoad = try store.startLoad(cards: keys, verifying: owned)

        // Decode while Redis works.
        let decoded = messages.map { TransactionDecoder.decode(value: $0.value, key: $0.key) }
        let misrouted = checkRouting(messages)

        // The merchants are known now: their lookup joins the load's pipeline (no extra round trip).
        var lookup = snapshot.map { MerchantLookup($0) }
        var recordMerchants = [Int](repeating: -1, count: lookup == nil ? 0 : messages.count)
        if lookup != nil {
            for (j, result) in decoded.enumerated() {
                if case .success(let tx) = result { recordMerchants[j] = lookup!.slot(for: tx.merchantId) }
            }
            if lookup!.merchantCount > 0 {
                try store.addMerchantLookup(to: &pendingLoad, hashKey: lookup!.snapshot.hashKey, fields: lookup!.fields)
            } else {
                lookup = nil
            }
        }
        timer.lap(.decode)

        let loaded = try store.finishLoadWithMerchants(pendingLoad)
        let blobs = loaded.blobs
        let merchants = lookup?.resolve(loaded.merchants)
        let merchantVersion = lookup?.snapshot.version
        // The cards of records that decoded (the decoder checked each one's key against its card_id), in memory or
        // read; a card whose records were all rejected keeps an empty state and is not written.
        var used = [Bool](repeating: false, count: cardKeys.count)
        for (j, result) in decoded.enumerated() {
            guard case .success = result else { continue }
            precondition(recordCards[j] >= 0, "the decoder accepted a record without a UTF-8 key")
            used[recordCards[j]] = true
        }
        var states = [CardState](repeating: CardState(), count: cardKeys.count)
        var fromUnfinished = 0, fromCache = 0
        var withLogs: [(index: Int, header: [UInt8], key: (partition: Int32, idBytes: [UInt8]))] = []
        for i in cardKeys.indices where used[i] {
            switch sources[i] {
            case .unfinished(let unfinished):
                states[i] = unfinishedState(unfinished)
                fromUnfinished += 1
            case .cached(let state):
                states[i] = state
                fromCache += 1
            case .redis(let slot):
                guard let blob = blobs[slot] else { continue }
                if CardState.isHeader(blob) {
                    // A busy card: its events are in its log, read below.
                    withLogs.append((i, blob, keys[slot]))
                } else {
                    states[i] = decodeCard { () throws(CardStateDecodingError) in try CardState(decoding: blob) }
                }
            }
        }
        if !withLogs.isEmpty {
            // Round trip 1b, only for busy cards not in memory (after a claim, or pushed out of the cache).
            let logs = try store.loadLogs(withLogs.map(\.key))
            for (card, log) in zip(withLogs, logs) {
                states[card.index] = decodeCard { () throws(CardStateDecodingError) in
                    try CardState(header: card.header, log: log ?? [])
                }
            }
            stats.update { $0.cardLogsRead += withLogs.count }
        }
        // What each card's write will be is relative to the state as the batches before this one leave it.
        for i in states.indices { states[i].beginBatch() }
        var touched = [Bool](repeating: false, count: cardKeys.count)
        let loadedFromRedis = keys.count
        let cacheBytes = cardCache.bytes, cacheCount = cardCache.count
        stats.update {
            $0.cardsFromUnfinishedBatches += fromUnfinished
            $0.cardsFromCache += fromCache
            $0.cardsFromRedis += loadedFromRedis
            $0.cardCacheBytes = cacheBytes
            $0.cardCacheEntries = cacheCount
        }
        timer.lap(.load)

        // Compute, per partition in offset order.
        var clocks = projected.map { PartitionClock(maxEventMs: $0?.maxEventMs) }
        var lastOffsets = [Int64?](repeating: nil, count: parts.all.count)
        var outcomes: [RecordOutcome] = []
        outcomes.reserveCapacity(decoded.count)
        for j in decoded.indices {
            let slot = slots[j]
            lastOffsets[slot] = messages[j].offset
            switch decoded[j] {
            case .failure(let reason):
                outcomes.append(.rejected(reason))
            case .success(let tx):
                let i = recordCards[j]
                var merchant = MerchantRiskFeatures.noSnapshot
                var merchantRiskVersion: String?
                if let merchants, case let m = recordMerchants[j], m >= 0, merchants.fromSnapshot[m] {
                    merchant = merchants.features[m]
                    merchantRiskVersion = merchantVersion
                }
                let outcome = step.process(
                    tx, state: &states[i], clock: &clocks[slot], model: model, nowMs: nowMs,
                    referenceMs: ScoringStep.referenceMs(nowMs: nowMs, messageTimestampMs: messages[j].timestampMs),
                    merchant: merchant, merchantRiskVersion: merchantRiskVersion)
                if case .decided = outcome { touched[i] = true }
                outcomes.append(outcome)
            }
        }
        var updates: [PartitionUpdate] = []
        var lastOffsetsByPartition: [TopicPartition: Int64] = [:]
        for (slot, last) in lastOffsets.enumerated() {
            guard let last else { continue }
            guard let expected = projected[slot] else { throw PipelineError.notOwned(parts.all[slot]) }
            var updated = expected
            updated.applied = last
            updated.maxEventMs = clocks[slot].maxEventMs
            updates.append(PartitionUpdate(partition: parts.all[slot], expected: expected, updated: updated))
            lastOffsetsByPartition[parts.all[slot]] = last
        }
        var writtenKeys: [CardKey] = []
        var writtenStates: [CardState] = []
        writtenKeys.reserveCapacity(cardKeys.count)
        writtenStates.reserveCapacity(cardKeys.count)
        for i in cardKeys.indices where touched[i] {
            writtenKeys.append(cardKeys[i])
            writtenStates.append(states[i])
        }
        states = []  // the written states are unique then (no copy when the cache takes them)
        timer.lap(.compute)

        if merchants != nil { stats.update { $0.merchantRiskLookups += 1 } }
        if let problem = merchants?.problem, let merchantRisk {
            merchantRisk.report("merchant-risk lookup failed, the affected merchants were scored with the no-snapshot defaults", metadata: [
                "merchant_risk.version": "\(merchantVersion ?? MerchantRiskVersion.none)", "problem": "\(problem)",
            ])
        }
        var retryFrom = parts.dictionary(firstOffsets)
        for tp in rewoundThisBatch { retryFrom[tp] = nil }
        return PreparedBatch(
            messages: messages, outcomes: outcomes, lastOffsets: lastOffsetsByPartition, updates: updates, cardKeys: writtenKeys, cardStates: writtenStates,
            recordSlots: slots, slotPartitions: parts.all, retryFrom: retryFrom, skipped: skipped,
            misrouted: misrouted, modelVersion: model.version, stageNanos: timer.nanos)
    }

    /// A card's state from what Redis held, or a fresh one (logged) if it cannot be read.
    func decodeCard(_ decode: () throws(CardStateDecodingError) -> CardState) -> CardState {
        switch Result(catching: decode) {
        case .success(let state): return state
        case .failure(let error):
            logger.error("unreadable card state, starting the card afresh", metadata: ["error": "\(error)"])
            return CardState()
        }
    }

    /// Store stage (after the batch's emit stage): stores the cards and the partitions' offsets in one atomic script
    /// fenced by epoch and applied offset, then commits the offsets to Kafka and counts the batch.
    func store(_ batch: PreparedBatch, _ encoded: EncodedOutputs, emittedMs: Int64) throws {
        var timer = StageTimer()
        if !batch.updates.isEmpty {
            let cards = zip(batch.cardKeys, batch.cardStates).map { (card: $0, write: $1.stateWrite()) }
            let written = Result { () throws(StateStoreError) in
                try stateWriter.write(partitions: batch.updates, writes: cards, ttlMs: config.features.stateTTLMs)
            }
            if case .failure(let error) = written {
                // Redis Cluster: some partitions landed (each is one script on its own slot). They are stored as if
                // the batch had been theirs alone, so the retry of the batch skips their records as applied, and the
                // others are handled as the failure says.
                if case .partial(let stored, let failure) = error {
                    for update in batch.updates where stored.contains(update.partition) {
                        partitions.stored(update.partition, update.updated)
                    }
                    logger.warning("batch stored for some partitions only, retrying the others", metadata: [
                        "stored": "\(stored.map(\.description).joined(separator: ","))", "error": "\(failure)",
                    ])
                    stats.update { $0.partialStores += 1 }
                    throw failure
                }
                throw error
            }
        }
        for update in batch.updates { partitions.stored(update.partition, update.updated) }
        timer.lap(.store)

        // The offsets went to Kafka in the emit stage (with the transaction, or right after the acknowledgements):
        // Redis is where Vigil restarts from, the committed offset says how far outputs are out.
        timer.lap(.commit)

        record(timer, batch: batch)
        // The Prometheus histogram takes its own lock per sample: recorded after the stats' lock, which probes and
        // scrapes wait for, is released.
        var latencies: [Int64] = []
        latencies.reserveCapacity(batch.messages.count)
        // The newest event time decided per partition of the batch, by the partition numbers the batch already has.
        var newest = [Int64](repeating: .min, count: batch.slotPartitions.count)
        stats.update { s in
            s.batches += 1
            s.batchSizes.record(batch.messages.count)
            s.skippedAlreadyApplied += batch.skipped
            s.misroutedRecords += batch.misrouted
            s.replayedWithoutOutputs += encoded.replayed
            s.modelVersion = batch.modelVersion
            s.record(encoded.shadow)
            for (i, (message, outcome)) in zip(batch.messages, batch.outcomes).enumerated() {
                switch outcome {
                case .decided(let d):
                    s.decided += 1
                    s.verdicts[d.verdict, default: 0] += 1
                    if let ts = message.timestampMs {
                        s.latency.record(ms: emittedMs - ts)
                        latencies.append(emittedMs - ts)
                    }
                    let slot = batch.recordSlots[i]
                    newest[slot] = max(newest[slot], d.transaction.eventTimeMs)
                case .late: s.late += 1
                case .rejected(let reason):
                    s.rejected += 1
                    s.rejectedByReason[reason.code, default: 0] += 1
                }
            }
            for (tp, last) in batch.lastOffsets { s.positions[tp] = last + 1 }
            for (slot, ms) in newest.enumerated() where ms > s.newestEventTimeMs[batch.slotPartitions[slot]] ?? .min {
                s.newestEventTimeMs[batch.slotPartitions[slot]] = ms
            }
        }
        for ms in latencies { stats.metrics.recordLatency(ms: ms) }
        stats.metrics.recordBatch(records: batch.messages.count)
    }

    /// Adds stage times to the stats (with `batch`, also the pipeline thread's stages of that batch).
    func record(_ timer: StageTimer, batch: PreparedBatch? = nil) {
        let stages = (batch?.stageNanos ?? []) + timer.nanos
        stats.update { s in
            for (stage, nanos) in stages {
                s.stageNanos[stage, default: 0] += nanos
                s.stageTimes[stage, default: DurationHistogram()].record(nanos: nanos)
            }
        }
        for (stage, nanos) in stages { stats.metrics.recordStage(stage, nanos: nanos) }
    }
}

/// A batch's encoded outputs, from the encode stage.
struct EncodedOutputs: @unchecked Sendable {
    var outputs: OutputBatch
    /// Records replayed into the state without outputs (emitted before).
    var replayed: Int
    /// The shadow model's verdicts for this batch, if one is set.
    var shadow: ShadowScorer?
}

/// The partitions of one batch, numbered 0..<count in order of first appearance. Records arrive in runs per
/// partition, so finding a record's number is usually one comparison.
struct BatchPartitions {
    private(set) var all: [TopicPartition] = []
    private var last = -1

    mutating func slot(of message: KafkaMessage) -> Int {
        if last >= 0, all[last].partition == message.partition, all[last].topic == message.topic { return last }
        if let i = all.firstIndex(where: { $0.partition == message.partition && $0.topic == message.topic }) {
            last = i
        } else {
            all.append(message.topicPartition)
            last = all.count - 1
        }
        return last
    }

    /// One value per partition, keyed by partition.
    func dictionary<V>(_ values: [V]) -> [TopicPartition: V] {
        Dictionary(uniqueKeysWithValues: zip(all, values))
    }
}
