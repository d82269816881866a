import Kafka
import VigilCore

/// The input partitioner check across batches, and when to tell the operator: at most one warning a minute per
/// partition. A plain value, no I/O: the pipeline logs the warnings it returns.
struct RoutingWatch: Sendable {
    /// One warning about records on a partition their key does not map to (never with a card id).
    struct Warning: Sendable, Equatable {
        var partition: Int32
        /// Where the expected partitioner puts the latest of these records.
        var expected: Int32
        var partitioner: Partitioner
        /// Misrouted records on the partition since its previous warning, this one's included.
        var records: Int
    }

    static let warningIntervalMs: Int64 = 60_000

    private(set) var check: PartitionerCheck
    /// Per partition: when it was last warned about, and misrouted records since then.
    private var lastWarningMs: [Int32: Int64] = [:]
    private var sinceWarning: [Int32: Int] = [:]

    init(check: PartitionerCheck) { self.check = check }

    /// Sets the mode and the input topic's partition count (on every assignment). A new mode starts learning afresh.
    mutating func configure(mode: InputPartitioner, partitionCount: Int32?) {
        if check.mode == mode {
            check.update(partitionCount: partitionCount)
        } else {
            check = PartitionerCheck(mode: mode, partitionCount: partitionCount)
        }
    }

    /// Checks a batch's records. Returns how many are misrouted and the warnings now due.
    mutating func observe(_ messages: [KafkaMessage], nowMs: Int64) -> (misrouted: Int, warnings: [Warning]) {
        guard check.mode != .none else { return (0, []) }
        var misrouted = 0
        var warnings: [Warning] = []
        for message in messages {
            guard let key = message.key else { continue }
            guard case .misrouted(let expected, let partitioner) = check.check(key: key, partition: message.partition)
            else { continue }
            misrouted += 1
            let p = message.partition
            sinceWarning[p, default: 0] += 1
            if let last = lastWarningMs[p], nowMs - last < Self.warningIntervalMs { continue }
            warnings.append(Warning(partition: p, expected: expected, partitioner: partitioner, records: sinceWarning[p] ?? 1))
            lastWarningMs[p] = nowMs
            sinceWarning[p] = 0
        }
        return (misrouted, warnings)
    }
}
