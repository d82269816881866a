/// The outputs of the batches one transaction carries, each batch with its own `DeliveryTracker`: a plain value, no
/// I/O (`TransactionDeliveriesTests`). Every message is tagged with its batch's base plus its index in that batch's
/// outputs, so one transaction's delivery failures can be handed to the right tracker.
struct TransactionDeliveries: Equatable {
    /// Per batch (the emit stage's produce also updates them: a copy refused when handed over is degraded).
    var trackers: [DeliveryTracker]
    /// Per batch, the tag of its first output; the next batch's base ends its range.
    let bases: [Int]
    private let counts: [Int]

    /// `isCopy`: per batch, whether each output is a copy of an input message (`OutputBatch.copies`).
    init(isCopy: [[Bool]]) {
        trackers = isCopy.map { DeliveryTracker(isCopy: $0) }
        counts = isCopy.map(\.count)
        var bases: [Int] = []
        var next = 0
        for count in counts {
            bases.append(next)
            next += count
        }
        self.bases = bases
    }

    /// The transaction was aborted: every batch's outputs are pending again (nothing of an aborted transaction
    /// counts), each tracker judging its own failures. Returns the first refusal no degradation cures (the batch and
    /// its entry), if any.
    mutating func aborted(failed: [(tag: Int, code: Int32)]) -> (batch: Int, entry: Int, code: Int32)? {
        var refusal: (batch: Int, entry: Int, code: Int32)?
        for i in trackers.indices {
            let range = bases[i]..<(bases[i] + counts[i])
            let own = failed.filter { range.contains($0.tag) }.map { (entry: $0.tag - bases[i], code: $0.code) }
            if case .refused(let entry, let code) = trackers[i].aborted(failed: own), refusal == nil {
                refusal = (i, entry, code)
            }
        }
        return refusal
    }

    /// Input copies sent without their body, over every batch.
    var degradedCount: Int { trackers.reduce(0) { $0 + $1.degraded.count } }
}
