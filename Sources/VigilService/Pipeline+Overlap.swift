import Dispatch
import Kafka
import VigilCore

/// A prepared batch handed to the completion thread. Only the pipeline thread waits on it.
final class InFlightBatch: @unchecked Sendable {
    let batch: PreparedBatch
    private let done = DispatchSemaphore(value: 0)
    private var error: (any Error)?
    private var finished = false

    init(_ batch: PreparedBatch) { self.batch = batch }

    /// Runs on the completion thread.
    func run(_ body: (PreparedBatch) throws -> Void) {
        do { try body(batch) } catch { self.error = error }
        done.signal()
    }

    /// Blocks until the batch is complete; returns its error, if any. May be called more than once.
    func wait() -> (any Error)? {
        if !finished {
            done.wait()
            finished = true
        }
        return error
    }
}

/// Two batches overlap: while the completion thread emits batch N's outputs, waits for Kafka and stores N's state in
/// Redis, the pipeline thread polls, decodes, loads and computes batch N+1. Batch N+1 reads the state of the cards
/// N touched from N's results (`inFlightStates`), not from Redis, and fences its Redis write on the partition
/// records N will have written. N+1 is handed over only after N has finished, so batches still complete one at a
/// time, in order: the crash and rebalance reasoning of `docs/state.md` holds batch by batch. If N fails, N+1 was
/// built on it and is thrown away with it; both are retried from N's first offsets.
extension Pipeline {
    /// Hands `batch` to the completion thread (the previous one must be settled).
    func startCompletion(of batch: PreparedBatch) {
        precondition(inFlight == nil, "a batch is already in flight")
        let handle = InFlightBatch(batch)
        inFlight = handle
        var states: [String: CardState] = [:]
        states.reserveCapacity(batch.cards.count)
        for card in batch.cards { states[card.cardId] = card.state }
        inFlightStates = states
        completionQueue.async { [unowned self] in handle.run { try complete($0) } }
    }

    /// Waits for the batch in flight, if any. Returns it with its error if it failed (the caller recovers);
    /// nil if it succeeded or there was none. Either way nothing is in flight afterwards.
    func settleInFlight() -> (batch: PreparedBatch, error: any Error)? {
        guard let handle = inFlight else { return nil }
        let waitStart = DispatchTime.now().uptimeNanoseconds
        let error = handle.wait()
        let waited = DispatchTime.now().uptimeNanoseconds - waitStart
        stats.update {
            $0.stageNanos[.wait, default: 0] += waited
            $0.stageTimes[.wait, default: DurationHistogram()].record(nanos: waited)
        }
        inFlight = nil
        inFlightStates = [:]
        if let error { return (handle.batch, error) }
        consecutiveFailures = 0
        return nil
    }

    /// Waits for the batch in flight without settling it: used by the revoke callback, so nothing of a revoked
    /// partition is written after the callback returns. The main loop settles it afterwards.
    func waitForInFlight() {
        _ = inFlight?.wait()
    }

    /// Each partition's earliest offset in either map.
    static func earliest(_ a: [TopicPartition: Int64], _ b: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        a.merging(b) { min($0, $1) }
    }
}
