import Dispatch

/// A batch at the emit stage, with its encoded outputs.
struct BatchToEmit: @unchecked Sendable {
    let handle: InFlightBatch
    let encoded: EncodedOutputs
    var batch: PreparedBatch { handle.batch }
    var sequence: Int { handle.sequence }
    var outputs: OutputBatch { encoded.outputs }
}

/// Exactly-once, several batches may share one transaction (`TransactionCadence`): the emit stage holds a batch that
/// arrives less than `transactionIntervalMs` after the previous transaction began, and begins the next one with every
/// batch held by then. What keeps this as safe as one transaction per batch:
/// - a held batch is not emitted: nothing of it is produced until its transaction begins, it is not stored (the store
///   stage starts only for emitted batches) and the batches after it wait behind it, in order;
/// - the transaction carries every held batch's outputs and the latest of their offsets per partition, so they land
///   together or not at all; on failure every one of them fails and all are retried (`emitTogether`);
/// - whoever waits for the batches in flight (a rebalance, a failure, an empty poll, a stop) first asks the emit stage
///   to begin at once with what it holds (`beginHeldTransactionPromptly`), so no wait depends on the cadence;
/// - a batch queued behind a busy emit stage joins the transaction of the batches ahead of it (`queuedForEmit`),
///   so a transaction slower than the interval does not make the next ones carry one batch each;
/// - the pipeline thread may hand over more batches than a transaction can hold (`maxBatchesInFlight`), so a full
///   group always begins by count, never stalls waiting for a batch that cannot come.
extension Pipeline {
    /// How many batches may be between hand-over and stored: three (encode, emit, store) at-least-once; exactly-once
    /// also every batch one transaction may hold.
    var maxBatchesInFlight: Int {
        config.mode == .exactlyOnce ? max(3, config.transactionMaxBatches + 2) : 3
    }

    /// Emit stage: `batch` reached it (encoded, no earlier emit failed). At-least-once it is emitted at once;
    /// exactly-once it is held until the cadence begins its transaction.
    func arrivedAtEmit(_ batch: BatchToEmit) {
        guard config.mode == .exactlyOnce else { return emitTogether([batch]) }
        heldForTransaction.append(batch)
        carryOut(cadence.arrived(now: DispatchTime.now().uptimeNanoseconds, queuedBehind: queuedForEmit.load(ordering: .sequentiallyConsistent)))
    }

    /// Emit stage: does what the cadence said.
    private func carryOut(_ action: TransactionCadence.Action) {
        switch action {
        case .begin:
            let batches = heldForTransaction
            heldForTransaction = []
            emitTogether(batches)
        case .hold(let wakeAt?):
            // Weak: a wake-up may come after the pipeline is gone (nothing is held then).
            emitQueue.asyncAfter(deadline: DispatchTime(uptimeNanoseconds: wakeAt)) { [weak self] in
                guard let self else { return }
                carryOut(cadence.wake(
                    now: DispatchTime.now().uptimeNanoseconds,
                    queuedBehind: queuedForEmit.load(ordering: .sequentiallyConsistent)))
            }
        case .hold(nil), .idle:
            break
        }
    }

    /// Pipeline thread, before it waits for the batches in flight: the emit stage begins a transaction with what it
    /// holds as soon as every batch handed over so far has reached it, instead of waiting out the cadence. Goes
    /// through the encode queue, so it reaches the emit queue after each batch handed over before it (each encode
    /// hands its batch to the emit queue before the next one starts).
    func beginHeldTransactionPromptly() {
        guard config.mode == .exactlyOnce, config.transactionIntervalMs > 0 else { return }
        // Weak: when nothing is held the pipeline thread does not wait for this, and may be gone when it runs.
        encodeQueue.async { [weak self] in
            self?.emitQueue.async { [weak self] in
                guard let self else { return }
                carryOut(cadence.flush(now: DispatchTime.now().uptimeNanoseconds))
            }
        }
    }
}
