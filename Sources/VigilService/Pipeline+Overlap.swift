import Dispatch
import Kafka
import Synchronization
import VigilCore

/// A prepared batch handed to the completion stages: encode, emit and store, each on its own serial queue.
/// Only the pipeline thread waits on it.
final class InFlightBatch: @unchecked Sendable {
    let batch: PreparedBatch
    /// Sequence number, to tell which batch last changed a cached card.
    let sequence: Int
    private let done = DispatchSemaphore(value: 0)
    /// Written by the stage that fails, before it signals.
    private var emitError: (any Error)?
    private var storeError: (any Error)?
    private var doneWaited = false

    init(_ batch: PreparedBatch, sequence: Int) {
        self.batch = batch
        self.sequence = sequence
    }

    /// Stage side: the emit stage ended (`error` nil: the outputs are in Kafka).
    func finishEmit(_ error: (any Error)?) {
        emitError = error
        if error != nil { done.signal() }
    }

    /// Stage side: the store stage ended.
    func finishStore(_ error: (any Error)?) {
        storeError = error
        done.signal()
    }

    /// Blocks until the batch is stored or failed; returns its error, if any.
    @discardableResult
    func waitDone() -> (any Error)? {
        if !doneWaited {
            done.wait()
            doneWaited = true
        }
        return emitError ?? storeError
    }

    /// Whether the batch has finished (stored or failed), without blocking.
    var isDone: Bool {
        if doneWaited { return true }
        if done.wait(timeout: .now()) == .success {
            doneWaited = true
            return true
        }
        return false
    }
}

/// A batch that did not finish because an earlier one failed; it is retried with it.
struct EarlierBatchFailed: Error, CustomStringConvertible {
    var description: String { "not stored: an earlier batch failed" }
}

/// Batches overlap in four stages. While the store stage writes batch N-2's state to Redis, the emit stage produces
/// batch N-1's outputs and waits for Kafka, and the encode stage encodes batch N's outputs, the pipeline thread polls,
/// decodes, loads and computes batch N+1. Exactly-once, the emit stage may hold batches so that several share one
/// transaction (`TransactionCadence`, `Pipeline+Cadence.swift`). What keeps this equivalent to one batch at a time
/// (`docs/state.md`):
/// - N+1 reads the state of every card an unfinished batch changed from memory (`inFlightStates`), not from Redis,
///   and fences its Redis write on the partition records the batches before it will have written;
/// - each stage is one serial queue, so batches are encoded, emitted and stored in order, and a batch is stored only
///   after its own outputs are in Kafka (exactly-once: after the transaction that carries them committed; a
///   transaction's batches are emitted together or fail together);
/// - a failure stops every later emit and store (a later batch's outputs may already be in Kafka: they are
///   remembered as emitted and not produced again), and all unfinished batches are retried from the earliest first
///   offsets.
extension Pipeline {
    /// Hands `batch` to the encode stage; its emit and store stages follow, each on its own serial queue.
    func startCompletion(of batch: PreparedBatch) {
        batchSequence += 1
        let handle = InFlightBatch(batch, sequence: batchSequence)
        inFlight.append(handle)
        for (i, card) in batch.cardKeys.enumerated() { inFlightStates[card] = InFlightCard(sequence: handle.sequence, index: i) }
        let sequence = handle.sequence
        lifecycle.withLock { $0.handOver(sequence) }
        // Each stage asks the lifecycle first and reports to it before waking the pipeline thread (`finish*`).
        encodeQueue.async { [unowned self] in
            let encoded = encodeOutputs(of: batch)
            queuedForEmit.add(1, ordering: .sequentiallyConsistent)
            emitQueue.async { [unowned self] in
                queuedForEmit.subtract(1, ordering: .sequentiallyConsistent)
                guard lifecycle.withLock({ $0.startEmit(sequence) }) == .run else {
                    handle.finishEmit(EarlierBatchFailed())
                    return
                }
                arrivedAtEmit(BatchToEmit(handle: handle, encoded: encoded))
            }
        }
    }

    /// Emit stage: emits `batches` (in order: one at-least-once; exactly-once every batch of one transaction) and
    /// hands each to the store stage, or fails them all: a transaction's batches land together or not at all.
    func emitTogether(_ batches: [BatchToEmit]) {
        do {
            try emitOutputs(of: batches)
        } catch {
            for member in batches {
                _ = lifecycle.withLock { $0.emitEnded(member.sequence, ok: false) }
                member.handle.finishEmit(error)
            }
            return
        }
        let emittedMs = Self.nowMs()
        for member in batches {
            let (handle, batch, encoded, sequence) = (member.handle, member.batch, member.encoded, member.sequence)
            _ = lifecycle.withLock { $0.emitEnded(sequence, ok: true) }
            handle.finishEmit(nil)
            storeQueue.async { [unowned self] in
                guard lifecycle.withLock({ $0.startStore(sequence) }) == .run else {
                    handle.finishStore(EarlierBatchFailed())
                    return
                }
                do {
                    try store(batch, encoded, emittedMs: emittedMs)
                    _ = lifecycle.withLock { $0.storeEnded(sequence, ok: true) }
                    probes.note(.stored)
                    handle.finishStore(nil)
                } catch {
                    _ = lifecycle.withLock { $0.storeEnded(sequence, ok: false) }
                    handle.finishStore(error)
                }
            }
        }
    }

    /// Before handing over the next batch: with `maxBatchesInFlight` in flight, waits until the oldest is stored
    /// (bounded memory; the stages' queues keep the order). Returns the failure to recover from, if any batch failed
    /// (every batch in flight is then finished and forgotten).
    func makeRoomForNextBatch() -> (error: any Error, retryFrom: [TopicPartition: Int64])? {
        if inFlight.count >= maxBatchesInFlight {
            let waitStart = DispatchTime.now().uptimeNanoseconds
            let failed = inFlight[inFlight.count - maxBatchesInFlight].waitDone() != nil
            recordWait(since: waitStart)
            if failed { return settleInFlight() }
        }
        return reapFinished()
    }

    /// Forgets batches that finished; if one failed, settles everything.
    func reapFinished() -> (error: any Error, retryFrom: [TopicPartition: Int64])? {
        while let oldest = inFlight.first, oldest.isDone {
            if oldest.waitDone() != nil { return settleInFlight() }
            inFlight.removeFirst()
            let removed = lifecycle.withLock { $0.removeOldestStored() }
            assert(removed == oldest.sequence, "the lifecycle and the handles agree on what is stored")
            for card in oldest.batch.cardKeys {
                if let i = inFlightStates.index(forKey: card), inFlightStates.values[i].sequence == oldest.sequence {
                    inFlightStates.remove(at: i)
                }
            }
            cacheCards(of: oldest.batch)
            consecutiveFailures = 0
        }
        return nil
    }

    /// A batch was stored: Redis holds its cards' states now, so later batches may take them from the cache. (A later
    /// batch in flight that changed a card again puts its own state when it is stored, or, if it fails, every cached
    /// card is dropped.)
    ///
    /// Only partitions still owned under the epoch the batch wrote with: a partition revoked (and perhaps claimed
    /// again, rebuilt from the log) since the batch was prepared keeps nothing of it.
    func cacheCards(of batch: PreparedBatch) {
        let storedMs = Self.nowMs()
        var current: Set<Int32> = []
        for update in batch.updates where partitions.record(update.partition)?.epoch == update.updated.epoch {
            current.insert(update.partition.partition)
        }
        for (i, card) in batch.cardKeys.enumerated() where current.contains(card.partition) {
            // A quiet card is not kept (checked before copying its state: most cards are quiet).
            guard batch.cardStates[i].events.count >= OwnedCardCache.minimumEvents else {
                if cardCache.count > 0 { cardCache.forget(card) }
                continue
            }
            var state = batch.cardStates[i]
            state.beginBatch()  // the batch's log changes are written: nothing of them is kept
            cardCache.put(card, state, nowMs: storedMs)
        }
    }

    /// Waits for every batch in flight. Returns the first failure with where to retry from (the earliest first
    /// offsets of every batch that did not finish), or nil if all finished. Nothing is in flight afterwards.
    func settleInFlight() -> (error: any Error, retryFrom: [TopicPartition: Int64])? {
        guard !inFlight.isEmpty else { return nil }
        let waitStart = DispatchTime.now().uptimeNanoseconds
        beginHeldTransactionPromptly()
        var failure: (any Error)?
        var retryFrom: [TopicPartition: Int64] = [:]
        for handle in inFlight {
            guard let error = handle.waitDone() else { continue }
            if failure == nil || failure is EarlierBatchFailed || (error as? KafkaError)?.isFatal == true {
                failure = error  // the first real cause; a fatal producer error wins (the producer is rebuilt)
            }
            retryFrom = Self.earliest(retryFrom, handle.batch.retryFrom)
        }
        recordWait(since: waitStart)
        inFlightStates = [:]
        _ = lifecycle.withLock { $0.settle() }  // the stages' queues are idle: every batch is done
        guard let failure else {
            for handle in inFlight { cacheCards(of: handle.batch) }
            inFlight = []
            consecutiveFailures = 0
            return nil
        }
        inFlight = []
        cardCache.removeAll()  // some batch failed: read every card from Redis again
        return (failure, retryFrom)
    }

    /// Waits until every batch in flight has finished, without settling: used by the revoke callback, so nothing of
    /// a revoked partition is written after the callback returns. The main loop settles them afterwards.
    func waitForInFlight() {
        beginHeldTransactionPromptly()
        for handle in inFlight { handle.waitDone() }
    }

    /// Records the pipeline thread's wait for earlier batches, from `start` until now.
    func recordWait(since start: UInt64) {
        var timer = StageTimer(last: start)
        timer.lap(.wait)
        record(timer)
    }

    /// Each partition's earliest offset in either map.
    static func earliest(_ a: [TopicPartition: Int64], _ b: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        a.merging(b) { min($0, $1) }
    }
}
