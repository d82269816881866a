import Kafka

/// One partition's ownership as this instance sees it, as a plain value whose transitions return what to do
/// (`PartitionOwnershipTests`). The rebalance callbacks and the pipeline thread report events; the Redis claims,
/// seeks, pauses and commits are theirs to carry out.
struct PartitionOwnership: Equatable {
    enum State: Equatable {
        /// Assigned by the group, not (yet) claimed in Redis: the next batch of it claims it.
        case unclaimed
        /// Claimed with `record`; records below `replayUntil` were emitted before and are replayed into the state
        /// without outputs (a repair, or a batch emitted but not stored by the previous owner).
        case owned(record: PartitionRecord, replayUntil: Int64?)
        /// Another instance claimed it (a newer epoch): nothing of it is touched until the group takes it away.
        case fenced
        /// The group took it away.
        case revoked
    }

    enum Action: Equatable {
        case none
        /// Claim it in Redis (a new epoch) and report `claimed` or `claimFailed`.
        case claim
        /// Consume from `start` (nil: the group's committed offset).
        case start(at: Int64?)
        /// Stop fetching it until the group takes it away.
        case pause
        /// Commit `offset` as the group's offset (the emitted mark), then forget the partition.
        case commitAndForget(offset: Int64?)
    }

    private(set) var state: State = .unclaimed
    /// Offsets below this have had their outputs emitted (acknowledged or committed in a transaction).
    private(set) var emittedUntil: Int64?

    /// The group assigned the partition.
    static func assigned() -> (PartitionOwnership, Action) { (PartitionOwnership(), .claim) }

    /// The claim succeeded: Redis said `record`; `committed` is the group's offset.
    mutating func claimed(_ record: PartitionRecord, committed: Int64?) -> Action {
        guard state != .revoked else { return .none }
        let plan = StartPlan.make(record: record, committed: committed, emitted: emittedUntil)
        if let until = plan.replayUntil { noteEmitted(until: until) }
        state = .owned(record: record, replayUntil: plan.replayUntil)
        return .start(at: plan.start)
    }

    /// The claim could not reach Redis: the next batch of the partition tries again.
    mutating func claimFailed() -> Action {
        if state != .revoked { state = .unclaimed }
        return .none
    }

    /// A batch's outputs are out up to `until`.
    mutating func noteEmitted(until: Int64) {
        emittedUntil = max(emittedUntil ?? until, until)
    }

    /// A batch was stored: Redis now holds `record`.
    mutating func stored(_ record: PartitionRecord) {
        guard case .owned(_, let replayUntil) = state else { return }
        let stillReplaying = replayUntil.flatMap { until in (record.applied ?? -1) + 1 < until ? until : nil }
        state = .owned(record: record, replayUntil: stillReplaying)
    }

    /// A load or write was refused: Redis has `current`.
    mutating func fenced(current: PartitionRecord) -> Action {
        guard case .owned(let record, _) = state else { return .none }
        switch PartitionFence.cause(current: current, ownEpoch: record.epoch) {
        case .claimedElsewhere:
            state = .fenced
            return .pause
        case .redisLostWrites:
            state = .unclaimed  // claimed again and rebuilt from the log; the emitted mark stays
            return .claim
        }
    }

    /// The group took the partition away: its emitted mark is committed before it is forgotten, so the next owner
    /// replays what was emitted but not stored without emitting it again.
    mutating func revoked() -> Action {
        state = .revoked
        return .commitAndForget(offset: emittedUntil)
    }

    /// The record this instance holds for the partition, if it owns it.
    var record: PartitionRecord? {
        if case .owned(let record, _) = state { return record }
        return nil
    }
}
