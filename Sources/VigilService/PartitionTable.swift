import Kafka
import Synchronization
import VigilCore

/// A partition this instance owns: what Redis said of it when claimed, updated after every stored batch.
struct OwnedPartition: Sendable, Equatable {
    var record: PartitionRecord
}

/// The partitions this instance owns, up to where each partition's outputs were already emitted, and whether the
/// input topic's records arrive on the partitions their keys map to (`RoutingWatch`).
/// Written by the rebalance callbacks and the pipeline, both on the pipeline thread; the lock makes it `Sendable`.
final class PartitionTable: Sendable {
    private let owned = Mutex<[TopicPartition: OwnedPartition]>([:])
    /// Offsets below this have had their outputs emitted (acknowledged, or committed in a transaction): they are
    /// replayed into the state without emitting again.
    private let emitted = Mutex<[TopicPartition: Int64]>([:])
    /// The input partitioner check (set up on assignment, with the topic's partition count).
    let routing = Mutex(RoutingWatch(check: PartitionerCheck(mode: .none)))

    subscript(_ tp: TopicPartition) -> OwnedPartition? {
        get { owned.withLock { $0[tp] } }
        set { owned.withLock { $0[tp] = newValue } }
    }

    func remove(_ tps: [TopicPartition]) {
        owned.withLock { table in for tp in tps { table[tp] = nil } }
    }

    /// Forgets everything of revoked partitions: a later owner learns it again from Redis and Kafka.
    func revoke(_ tps: [TopicPartition]) {
        remove(tps)
        emitted.withLock { table in for tp in tps { table[tp] = nil } }
    }

    func emittedUntil(_ tp: TopicPartition) -> Int64? { emitted.withLock { $0[tp] } }

    func noteEmitted(_ tp: TopicPartition, until offset: Int64) {
        emitted.withLock { $0[tp] = max($0[tp] ?? offset, offset) }
    }

    var count: Int { owned.withLock { $0.count } }

    var partitions: [TopicPartition] { owned.withLock { Array($0.keys) } }
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
