/// The fences on a partition's state in Redis, as pure rules (`PartitionFenceTests`). The batch script
/// (`StateStore.batchScript`) and the load check (`StateStore.finishLoad`) apply them inside Redis and after the load;
/// the tests check the script against `admitsWrite` case by case on a real Redis.
enum PartitionFence {
    /// A batch may write a partition only if Redis still holds exactly the record the batch was computed from: the
    /// same ownership epoch (no other instance claimed it since) and the same applied offset (no write was lost or
    /// made by someone else). Absent fields compare equal only to absent fields.
    static func admitsWrite(current: PartitionRecord, expected: PartitionRecord) -> Bool {
        current.epoch == expected.epoch && current.applied == expected.applied
    }

    /// With batches in flight, Redis may hold the record before them or any record one of them writes: a load is
    /// accepted if Redis's epoch and applied offset match one of `acceptable`.
    static func admitsLoad(current: PartitionRecord, acceptable: [PartitionRecord]) -> Bool {
        acceptable.contains { $0.applied == current.applied && $0.epoch == current.epoch }
    }

    /// What a refused write or load means: another instance claimed the partition (a newer epoch: stop touching it
    /// until the group takes it away), or Redis lost writes (rebuild it from the log).
    static func cause(current: PartitionRecord, ownEpoch: Int64?) -> FenceCause {
        if let theirs = current.epoch, theirs > (ownEpoch ?? 0) { return .claimedElsewhere }
        return .redisLostWrites
    }
}

enum FenceCause: Equatable {
    case claimedElsewhere, redisLostWrites
}
