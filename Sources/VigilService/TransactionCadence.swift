/// When the emit stage begins the next Kafka transaction (exactly-once): a plain value whose transitions say what to
/// do, no I/O and no clock of its own (`TransactionCadenceTests`).
///
/// Every transaction pays the same round trips whatever it carries (AddPartitionsToTxn, AddOffsetsToTxn,
/// TxnOffsetCommit, EndTxn, the plain offset commit after it), and with librdkafka 2.0.2 about a millisecond of its
/// main thread spinning: after each AddPartitionsToTxn response it arms a 1 ms timer, and its main loop waits for a
/// timer less than a millisecond away with a zero timeout, in a tight loop (librdkafka issue #4684, fixed upstream in
/// later releases). So at most one transaction begins per `interval`: a batch that reaches the emit stage sooner
/// after the previous transaction began is *held*, and every batch held by then shares the next transaction (their
/// outputs and offsets commit together, or none does). A batch that arrives later than `interval` after the previous
/// begin starts its transaction at once, so light traffic waits for nothing. `maxBatches` held batches begin at once;
/// `flush` begins with whatever is held (someone waits for the batches in flight). `interval` 0 gives one transaction
/// per batch, at once.
///
/// Batches already queued behind the arriving one (`queuedBehind`: encoded and handed to the emit stage while it
/// was busy, typically with the previous transaction) join its transaction even when it is due: otherwise a
/// transaction slower than the interval would make every next one begin with the single batch at the head of the
/// queue, and the cadence would be off exactly under load. So a batch is held at most `interval` or until the
/// batches queued behind it have arrived (the emit stage takes them next), whichever is later.
///
/// At most one wake-up is outstanding (`wakeArmed`): a group that began by count or by flush leaves its wake-up
/// armed, and that wake-up serves the next group (asking again for its due time), so timers never pile up.
struct TransactionCadence: Equatable {
    enum Action: Equatable {
        /// Begin a transaction with every held batch now (the arriving one included).
        case begin
        /// Keep the batch held. `wakeAt` (uptime nanoseconds): call `wake` then, unless that is already arranged.
        case hold(wakeAt: UInt64?)
        /// Nothing is held: nothing to do.
        case idle
    }

    let intervalNanos: UInt64
    let maxBatches: Int
    /// Batches held for the next transaction.
    private(set) var held = 0
    /// When the last transaction began (uptime nanoseconds); nil before the first.
    private(set) var lastBegan: UInt64?
    /// A wake-up is asked for and has not come yet.
    private(set) var wakeArmed = false

    init(intervalMs: Int, maxBatches: Int) {
        precondition(intervalMs >= 0 && maxBatches >= 1, "a cadence needs an interval >= 0 and at least one batch")
        intervalNanos = UInt64(intervalMs) * 1_000_000
        self.maxBatches = maxBatches
    }

    /// When the next transaction may begin: one interval after the last one began.
    var due: UInt64? { lastBegan.map { $0 &+ intervalNanos } }

    /// A batch reached the emit stage at `now`, with `queuedBehind` more already handed to the emit stage after it.
    mutating func arrived(now: UInt64, queuedBehind: Int = 0) -> Action {
        held += 1
        if held >= maxBatches || (isDue(now) && queuedBehind == 0) { return begin(now) }
        return hold(now)
    }

    /// A wake-up asked for by `hold` came. Begins if it is time (a wake-up for a transaction that already began finds
    /// the next group not yet due and asks again for that one).
    mutating func wake(now: UInt64, queuedBehind: Int = 0) -> Action {
        wakeArmed = false
        guard held > 0 else { return .idle }
        return isDue(now) && queuedBehind == 0 ? begin(now) : hold(now)
    }

    /// Begin now with whatever is held, due or not: the pipeline thread waits for the batches in flight (a rebalance,
    /// a failure, an empty poll, a stop).
    mutating func flush(now: UInt64) -> Action {
        held > 0 ? begin(now) : .idle
    }

    private func isDue(_ now: UInt64) -> Bool {
        guard let due else { return true }
        return now >= due
    }

    /// Keeps what is held, asking for a wake-up unless one is outstanding: at the group's due time, or, when it is due
    /// already but batches are queued behind it, one interval from now (only a fallback: their arrival begins it).
    private mutating func hold(_ now: UInt64) -> Action {
        guard !wakeArmed else { return .hold(wakeAt: nil) }
        wakeArmed = true
        guard let due, due > now else { return .hold(wakeAt: now &+ intervalNanos) }
        return .hold(wakeAt: due)
    }

    private mutating func begin(_ now: UInt64) -> Action {
        held = 0
        lastBegan = now
        return .begin
    }
}
