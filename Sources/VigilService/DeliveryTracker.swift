import Kafka

/// Which of a batch's outputs still have to reach Kafka, and which were refused as they are: a plain value, no I/O
/// (`DeliveryTrackerTests`). The emit stage produces what `pending` lists, reports each message's failure, and
/// produces what is pending again until nothing is.
///
/// A copy of an input message (on `fraud.dlq` or `fraud.late`) that Kafka refuses (too large for the producer's
/// `message.max.bytes` or the topic's `max.message.bytes`, or invalid) can never be delivered as it is: it is
/// *degraded* (its body and an oversized key left out, their size and SHA-256 in headers) and produced again, so the
/// input still ends in exactly one place and the partition moves on. Vigil's own messages (decisions, alerts,
/// features, shadow verdicts) are small; one refused is tried again (it may have shared a refused request with a
/// large copy) and fails the batch after `maxRefusals`, which only a misconfigured topic causes.
struct DeliveryTracker: Equatable {
    enum Verdict: Equatable {
        /// Everything is delivered.
        case done
        /// Produce `pending` again (after a backoff if `backOff`).
        case again(backOff: Bool)
        /// An output of Vigil's own was refused `maxRefusals` times, or a degraded copy was refused: Kafka's
        /// configuration cannot take it. `entry` is its index.
        case refused(entry: Int, code: Int32)
    }

    static let maxRefusals = 3

    /// Entry indexes not yet delivered, in order.
    private(set) var pending: [Int]
    /// Entries to produce without their body.
    private(set) var degraded: Set<Int> = []
    private var refusals: [Int: Int] = [:]
    /// Whether each entry is a copy of an input message (may be degraded).
    private let isCopy: [Bool]

    init(isCopy: [Bool]) {
        self.isCopy = isCopy
        pending = Array(isCopy.indices)
    }

    /// `entry` was refused when handed to the producer (`code`): degrade it if it is a copy. Returns false if it
    /// cannot be degraded (not a copy, or already degraded).
    mutating func refusedAtProduce(_ entry: Int, code: Int32) -> Bool {
        guard isCopy[entry], !degraded.contains(entry) else { return false }
        degraded.insert(entry)
        return true
    }

    /// One round's delivery reports (at-least-once): `failed` lists the entries that did not arrive, with their
    /// error codes. Every other pending entry was delivered.
    mutating func delivered(failed: [(entry: Int, code: Int32)]) -> Verdict {
        let (again, backOff, refused) = judge(failed)
        if let refused { return refused }
        pending = again
        return again.isEmpty ? .done : .again(backOff: backOff)
    }

    /// A transaction was aborted (exactly-once): nothing of it counts, so every entry is pending again; `failed` are
    /// the delivery failures it reported (the refused entries among them are degraded; purged ones are not refused).
    mutating func aborted(failed: [(entry: Int, code: Int32)]) -> Verdict {
        let (_, backOff, refused) = judge(failed)
        if let refused { return refused }
        pending = Array(isCopy.indices)
        return .again(backOff: backOff)
    }

    private mutating func judge(_ failed: [(entry: Int, code: Int32)]) -> ([Int], Bool, Verdict?) {
        var again: [Int] = []
        var backOff = false
        for (entry, code) in failed.sorted(by: { $0.entry < $1.entry }) {
            if again.last == entry { continue }
            if KafkaError.refusesMessage(code) {
                if isCopy[entry] {
                    if degraded.contains(entry) { return ([], false, .refused(entry: entry, code: code)) }
                    degraded.insert(entry)
                } else {
                    refusals[entry, default: 0] += 1
                    if refusals[entry]! >= Self.maxRefusals { return ([], false, .refused(entry: entry, code: code)) }
                }
            } else if code != KafkaError.Code.purgedFromQueue && code != KafkaError.Code.purgedInFlight {
                backOff = true
            }
            again.append(entry)
        }
        return (again, backOff, nil)
    }

}
