import Kafka

/// One batch's way through a Kafka transaction, as librdkafka's transactional API documents it (`rdkafka.h`,
/// "Transactional producer API"): a plain value whose transitions say what to do next; the emit stage carries the
/// actions out. No I/O here, so every path is unit-tested (`TransactionRunTests`).
///
/// The rule it exists for: once `commit_transaction` has been called, the transaction may land whatever the call
/// returns, so the batch is never produced again until that is settled: a retriable error calls commit again (the
/// commit goes on in the background); an abortable one is aborted first (then it cannot land); a fatal one rebuilds
/// the producer (whose `init_transactions` finishes or aborts the old transaction) and then asks the group's
/// committed offsets, which a transaction commits atomically with its messages, whether it landed.
struct TransactionRun: Equatable {
    enum Step: Equatable {
        case begin, produce, sendOffsets, commit, abort, rebuildProducer, checkCommitted, emitted
    }

    /// How the current step ended.
    enum Result: Equatable {
        case succeeded
        case failed(TransactionalErrorHandling)
        /// `checkCommitted` only: whether the group's committed offsets show the transaction's offsets.
        case landed(Bool)
    }

    private(set) var step: Step = .begin
    /// `commit_transaction` was called for the transaction and neither an abort nor the committed offsets settled
    /// whether it landed.
    private(set) var commitMayHaveLanded = false
    /// Transactions begun for this batch.
    private(set) var transactionsBegun = 0
    /// Transactions aborted for this batch (their messages are invisible to `read_committed` readers).
    private(set) var aborted = 0
    /// The producer was rebuilt after a fatal error.
    private(set) var rebuilds = 0

    /// A transaction is open on the producer (begun and neither committed nor aborted).
    var isOpen: Bool { [.produce, .sendOffsets, .commit, .abort].contains(step) }

    /// Moves on from the current step. Returns the next step (also `step`).
    @discardableResult
    mutating func next(after result: Result) -> Step {
        switch (step, result) {
        case (.begin, .succeeded):
            transactionsBegun += 1
            step = .produce
        case (.begin, .failed(.retry)):
            step = .begin
        case (.begin, .failed):
            step = .rebuildProducer

        case (.produce, .succeeded):
            step = .sendOffsets
        case (.produce, .failed(.fatal)), (.sendOffsets, .failed(.fatal)):
            step = .rebuildProducer
        case (.produce, .failed):
            step = .abort  // retriable produce errors (a full queue) are waited out inside produce

        case (.sendOffsets, .succeeded):
            step = .commit
        case (.sendOffsets, .failed(.retry)):
            step = .sendOffsets  // retriable, not resumable: a new request each time
        case (.sendOffsets, .failed(.abort)):
            step = .abort

        case (.commit, .succeeded):
            commitMayHaveLanded = false
            step = .emitted
        case (.commit, .failed(.retry)):
            commitMayHaveLanded = true
            step = .commit  // resumable: the commit continues in the background
        case (.commit, .failed(.abort)):
            step = .abort  // an abortable transaction was not committed; the abort makes sure
        case (.commit, .failed(.fatal)):
            commitMayHaveLanded = true
            step = .rebuildProducer

        case (.abort, .succeeded):
            aborted += 1
            commitMayHaveLanded = false
            step = .begin
        case (.abort, .failed(.retry)):
            step = .abort
        case (.abort, .failed):
            step = .rebuildProducer

        case (.rebuildProducer, .succeeded):
            rebuilds += 1
            step = commitMayHaveLanded ? .checkCommitted : .begin
        case (.rebuildProducer, .failed):
            step = .rebuildProducer

        case (.checkCommitted, .landed(let landed)):
            commitMayHaveLanded = false
            step = landed ? .emitted : .begin
        case (.checkCommitted, .failed):
            step = .checkCommitted
        case (.checkCommitted, .succeeded):
            preconditionFailure("checkCommitted answers landed(_:)")

        case (.emitted, _):
            break
        case (_, .landed):
            preconditionFailure("a committed-offsets answer outside checkCommitted")
        }
        return step
    }
}
