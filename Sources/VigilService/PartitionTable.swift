import Kafka
import Synchronization
import VigilCore

/// Every partition the group assigned to this instance, each as a `PartitionOwnership` value (unclaimed, owned with
/// Redis's record and its replay mark, fenced), and whether the input topic's records arrive on the partitions their
/// keys map to (`RoutingWatch`). The rebalance callbacks and the pipeline thread report events here and carry out the
/// actions the transitions return (claims, seeks, pauses, commits); the emit stage reports emitted outputs. The lock
/// makes it `Sendable`; no transition does I/O under it.
final class PartitionTable: Sendable {
    private let table = Mutex<[TopicPartition: PartitionOwnership]>([:])
    /// The input partitioner check (set up on assignment, with the topic's partition count).
    let routing = Mutex(RoutingWatch(check: PartitionerCheck(mode: .none)))

    /// The group assigned `tps`: each starts unclaimed; its claim is the caller's `PartitionOwnership.Action.claim`.
    func assign(_ tps: [TopicPartition]) {
        table.withLock { table in
            for tp in tps where table[tp] == nil { table[tp] = PartitionOwnership.assigned().0 }
        }
    }

    /// Redis's record for `tp` if this instance owns it (claimed, not fenced).
    func record(_ tp: TopicPartition) -> PartitionRecord? { table.withLock { $0[tp]?.record } }

    /// Whether a batch holding `tp` must claim it first: assigned (or seen in a batch) and not claimed yet.
    func needsClaim(_ tp: TopicPartition) -> Bool {
        table.withLock { table in
            guard let ownership = table[tp] else { return true }
            return ownership.state == .unclaimed
        }
    }

    /// Whether another instance holds `tp` (a newer epoch): nothing of it is processed until the group takes it away.
    func isFenced(_ tp: TopicPartition) -> Bool { table.withLock { $0[tp]?.state == .fenced } }

    /// The claim of `tp` succeeded with Redis's `record`; returns where to start and which offsets are replayed
    /// without outputs.
    func claimed(_ tp: TopicPartition, _ record: PartitionRecord, committed: Int64?) -> StartPlan {
        table.withLock { table in
            var ownership = table[tp] ?? PartitionOwnership.assigned().0
            let action = ownership.claimed(record, committed: committed)
            table[tp] = ownership
            var plan = StartPlan(start: nil, replayUntil: nil)
            if case .start(let at) = action { plan.start = at }
            if case .owned(_, let replayUntil) = ownership.state { plan.replayUntil = replayUntil }
            return plan
        }
    }

    /// A batch's outputs of `tp` are out up to `until`. A partition already revoked (and so forgotten) keeps nothing.
    func noteEmitted(_ tp: TopicPartition, until offset: Int64) {
        table.withLock { $0[tp]?.noteEmitted(until: offset) }
    }

    func emittedUntil(_ tp: TopicPartition) -> Int64? { table.withLock { $0[tp]?.emittedUntil } }

    /// A batch was stored: Redis holds `record` for `tp`.
    func stored(_ tp: TopicPartition, _ record: PartitionRecord) {
        table.withLock { $0[tp]?.stored(record) }
    }

    /// A load or write of `tp` was refused because Redis holds `current`. Returns `.pause` (claimed elsewhere),
    /// `.claim` (Redis lost writes: the next batch claims it again) or `.none` (not owned).
    func fenced(_ tp: TopicPartition, current: PartitionRecord) -> PartitionOwnership.Action {
        table.withLock { table in
            guard var ownership = table[tp] else { return .none }
            let action = ownership.fenced(current: current)
            table[tp] = ownership
            return action
        }
    }

    /// The group took `tps` away: each is forgotten, and the returned emitted marks are to be committed so that the
    /// next owner replays what was emitted but perhaps not stored without emitting it again.
    func revoke(_ tps: [TopicPartition]) -> [TopicPartition: Int64] {
        table.withLock { table in
            var marks: [TopicPartition: Int64] = [:]
            for tp in tps {
                guard var ownership = table.removeValue(forKey: tp) else { continue }
                if case .commitAndForget(let offset?) = ownership.revoked() { marks[tp] = offset }
            }
            return marks
        }
    }

    /// Partitions the group assigned to this instance (owned, unclaimed or fenced).
    var assigned: [TopicPartition] { table.withLock { Array($0.keys) } }

    /// Partitions this instance owns, with Redis's record for each.
    var owned: [(TopicPartition, PartitionRecord)] {
        table.withLock { table in table.compactMap { tp, o in o.record.map { (tp, $0) } } }
    }

    var count: Int { table.withLock { $0.count } }
}

/// Where to start consuming a newly owned partition, and which offsets to replay into the state without outputs.
struct StartPlan: Equatable {
    /// nil: the group's committed offset (or `auto.offset.reset`).
    var start: Int64?
    /// Offsets below this are replayed without emitting outputs (they were emitted before).
    var replayUntil: Int64?

    /// Decides from Redis's record and the group's committed offset. Redis is where Vigil restarts from; the committed
    /// offset says how far outputs are known to be out.
    static func make(record: PartitionRecord, committed: Int64?, emitted: Int64?) -> StartPlan {
        let outputsUntil = [committed, emitted].compactMap { $0 }.max()
        if let applied = record.applied {
            let start = applied + 1
            if let until = outputsUntil, until > start { return StartPlan(start: start, replayUntil: until) }
            return StartPlan(start: start, replayUntil: nil)
        }
        // Redis knows nothing but outputs were emitted before: Redis lost the partition's state. Rebuild it from the
        // beginning of the log (as far as retention keeps it), emitting nothing already emitted.
        if let until = outputsUntil, until > 0 { return StartPlan(start: KafkaOffset.beginning, replayUntil: until) }
        return StartPlan(start: nil, replayUntil: nil)
    }
}
