/// The lifecycle of the batches handed to the encode, emit and store stages (`Pipeline+Overlap.swift`), as one plain
/// value: the stages and the pipeline thread only report what happened and carry out what the transitions return.
/// No I/O (`BatchesInFlightTests`). The rules it keeps:
/// - a batch goes encoding -> emitting -> storing -> stored, each stage in order (exactly-once, several batches may be
///   emitting at once: held for one transaction, `TransactionCadence`; they end their emit together);
/// - once a batch's emit fails, no later batch is emitted; once a store fails, no later batch is stored (a later batch
///   whose outputs are out is remembered as emitted by the pipeline and not produced again);
/// - a batch that an earlier failure stopped is *abandoned*; every unfinished batch is retried together once all are
///   done (`settle`), and only then may stages run again.
struct BatchesInFlight: Equatable {
    enum Phase: Equatable {
        case encoding, emitting, storing, stored
        /// Its own stage failed.
        case failed(Stage)
        /// An earlier batch failed before this one reached the stage.
        case abandoned(Stage)

        /// The batch will not move any more.
        var isDone: Bool {
            switch self {
            case .stored, .failed, .abandoned: true
            case .encoding, .emitting, .storing: false
            }
        }
    }

    enum Stage: Equatable { case emit, store }

    /// What a stage does next with the batch.
    enum Action: Equatable {
        /// Carry out the stage.
        case run
        /// Do nothing: the batch is done (abandoned); wake whoever waits for it.
        case finish
        /// The stage ended; hand the batch to the next stage.
        case handOn
    }

    /// Batches in order of hand-over, with their phase.
    private(set) var batches: [(sequence: Int, phase: Phase)] = []
    private(set) var emitStopped = false
    private(set) var storeStopped = false

    static func == (a: Self, b: Self) -> Bool {
        a.batches.elementsEqual(b.batches) { $0.sequence == $1.sequence && $0.phase == $1.phase }
            && a.emitStopped == b.emitStopped && a.storeStopped == b.storeStopped
    }

    var count: Int { batches.count }
    var isEmpty: Bool { batches.isEmpty }

    func phase(of sequence: Int) -> Phase? { batches.first { $0.sequence == sequence }?.phase }

    /// The pipeline thread hands a prepared batch over; it is encoded next.
    mutating func handOver(_ sequence: Int) {
        precondition(batches.last.map { $0.sequence < sequence } ?? true, "batches are handed over in order")
        batches.append((sequence, .encoding))
    }

    /// The emit stage is about to emit the batch (its encoding is done).
    mutating func startEmit(_ sequence: Int) -> Action {
        guard !emitStopped else { return set(sequence, .abandoned(.emit), finish: true) }
        return set(sequence, .emitting, finish: false)
    }

    /// The emit stage ended: `ok` means the outputs are in Kafka.
    mutating func emitEnded(_ sequence: Int, ok: Bool) -> Action {
        guard ok else {
            emitStopped = true
            return set(sequence, .failed(.emit), finish: true)
        }
        _ = set(sequence, .storing, finish: false)
        return .handOn
    }

    /// The store stage is about to store the batch.
    mutating func startStore(_ sequence: Int) -> Action {
        guard !storeStopped else { return set(sequence, .abandoned(.store), finish: true) }
        return .run
    }

    /// The store stage ended.
    mutating func storeEnded(_ sequence: Int, ok: Bool) -> Action {
        if !ok { storeStopped = true }
        return set(sequence, ok ? .stored : .failed(.store), finish: true)
    }

    /// Forgets the oldest batch if it is stored, and returns its sequence number (nil if it is not stored yet).
    mutating func removeOldestStored() -> Int? {
        guard let first = batches.first, first.phase == .stored else { return nil }
        batches.removeFirst()
        return first.sequence
    }

    /// Every batch is done: forgets them all and lets the stages run again. Returns the sequence numbers of those
    /// that did not get stored (to retry), oldest first.
    mutating func settle() -> [Int] {
        precondition(batches.allSatisfy { $0.phase.isDone }, "settle only when every batch is done")
        let unfinished = batches.filter { $0.phase != .stored }.map(\.sequence)
        batches = []
        emitStopped = false
        storeStopped = false
        return unfinished
    }

    private mutating func set(_ sequence: Int, _ phase: Phase, finish: Bool) -> Action {
        guard let i = batches.firstIndex(where: { $0.sequence == sequence }) else {
            preconditionFailure("batch \(sequence) is not in flight")
        }
        batches[i].phase = phase
        return finish ? .finish : .run
    }
}
