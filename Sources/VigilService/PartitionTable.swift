import Kafka
import Synchronization
import VigilCore

/// The partitions this instance owns, with what Redis says of each (applied offset, event-time clock).
/// Written by the rebalance callbacks and the pipeline, both on the pipeline thread; the lock makes it `Sendable`.
final class PartitionTable: Sendable {
    private let entries = Mutex<[TopicPartition: PartitionRecord]>([:])

    subscript(_ tp: TopicPartition) -> PartitionRecord? {
        get { entries.withLock { $0[tp] } }
        set { entries.withLock { $0[tp] = newValue } }
    }

    func remove(_ tps: [TopicPartition]) {
        entries.withLock { table in for tp in tps { table[tp] = nil } }
    }

    func removeAll() { entries.withLock { $0.removeAll() } }

    var count: Int { entries.withLock { $0.count } }
}
