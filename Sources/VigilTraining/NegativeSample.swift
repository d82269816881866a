/// What the trainer sampled: unlabelled transactions (neither labelled nor blocked) beyond a budget are kept by a
/// hash of their transaction id, the `kept` smallest hashes of all of them (a bottom-k sample), so the sample is the
/// same whatever order the records arrive in, and a redelivered record gets the same decision as its first copy.
/// Every kept one stands for `1 / rate` transactions (its importance weight) in the fit, in the standardization, in
/// the train/validation split and in every validation metric and alert rate; fraud, labelled and blocked
/// transactions are all kept, with weight 1.
public struct NegativeSample: Sendable, Equatable {
    /// Unlabelled transactions the budget allowed (`TrainingOptions.maxSampledTransactions`).
    public var budget: Int
    /// Unlabelled, unblocked feature records offered to the sample (first copies; a redelivered copy of a
    /// sampled-out transaction cannot be told from a new one, so this can exceed the distinct count by the
    /// duplicate share).
    public var offered: Int
    /// Of those, kept.
    public var kept: Int
    /// Share kept: the sampling threshold over 2^64 (each unlabelled transaction is kept with this probability).
    public var rate: Double
    /// Importance weight of a kept unlabelled transaction: `1 / rate`.
    public var weight: Double { 1 / rate }
}

/// The sampling decision as a pure value: a threshold on 64-bit hashes that only goes down.
struct SampleThreshold: Sendable, Equatable {
    /// Rows with a hash strictly below are kept; `UInt64.max` keeps everything (no sampling yet).
    var bound: UInt64 = .max
    /// Whether the bound was ever lowered.
    var lowered = false

    func keeps(_ hash: UInt64) -> Bool { !lowered || hash < bound }

    /// Lowers the bound to the `(budget + 1)`-th smallest of `hashes` (which hold every hash offered below the
    /// current bound), so that exactly the `budget` smallest stay; nothing when there are at most `budget`. The bound
    /// after any sequence of calls is the `(budget + 1)`-th smallest hash offered so far, whatever the order.
    mutating func lower(toKeep budget: Int, of hashes: [UInt64]) {
        guard hashes.count > budget, budget >= 1 else { return }
        var sorted = hashes
        sorted.sort()
        bound = sorted[budget]
        lowered = true
    }

    /// The probability that a given unlabelled transaction is kept.
    var rate: Double { lowered ? Double(bound) / 18_446_744_073_709_551_616.0 : 1 }
}
