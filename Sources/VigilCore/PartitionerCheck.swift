/// Which partitioner the payment systems use for the input topic (`--input-partitioner`).
public enum InputPartitioner: String, Sendable, CaseIterable {
    /// Java's default (`murmur2`).
    case murmur2
    /// librdkafka's default (`consistent_random`).
    case crc32
    /// Learn which of the two the topic's records agree with.
    case auto
    /// Do not check.
    case none
}

/// Tells whether a record sits on the partition its key maps to. A card whose records arrive on two partitions
/// (publishers with different partitioners) has two histories: Vigil keeps each partition's features exact for what
/// that partition saw, and this check is how the operator learns about it (`docs/partitioning.md`).
///
/// With a named partitioner, a record on another partition than that partitioner gives its key is misrouted. With
/// `auto`, the check counts the records that agree with one of the two partitioners and not the other; once
/// `learningThreshold` records told them apart, the one with more is expected and records that disagree with it are
/// misrouted. Before that, and with `none` or an unknown partition count, there is no verdict.
public struct PartitionerCheck: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The record is where the expected partitioner puts its key.
        case consistent
        /// The expected partitioner puts its key on `expected`.
        case misrouted(expected: Int32, partitioner: Partitioner)
        /// No verdict: not checked, nothing learned yet, no key, or the partition count is unknown or 1.
        case unchecked
    }

    /// Records that tell the two partitioners apart before `auto` names one.
    public static let learningThreshold = 20

    public let mode: InputPartitioner
    /// The input topic's partition count, from broker metadata; nil while unknown.
    public private(set) var partitionCount: Int32?
    /// Records consistent with murmur2 but not crc32, and the other way round (`auto` learns from them).
    public private(set) var onlyMurmur2 = 0
    public private(set) var onlyCRC32 = 0

    public init(mode: InputPartitioner, partitionCount: Int32? = nil) {
        self.mode = mode
        self.partitionCount = partitionCount
    }

    /// The same check with a new partition count (after a metadata refresh); what `auto` learned is kept, since the
    /// partitioner does not depend on the count.
    public mutating func update(partitionCount: Int32?) {
        self.partitionCount = partitionCount
    }

    /// The partitioner records are expected to follow, if one is named or learned.
    public var expected: Partitioner? {
        switch mode {
        case .murmur2: return .murmur2
        case .crc32: return .crc32
        case .none: return nil
        case .auto:
            guard onlyMurmur2 + onlyCRC32 >= Self.learningThreshold, onlyMurmur2 != onlyCRC32 else { return nil }
            return onlyMurmur2 > onlyCRC32 ? .murmur2 : .crc32
        }
    }

    /// Checks one record's partition against its key (and, with `auto`, learns from it).
    public mutating func check(key: UnsafeRawBufferPointer, partition: Int32) -> Outcome {
        guard mode != .none, let n = partitionCount, n > 1, partition >= 0, partition < n, key.count > 0 else {
            return .unchecked
        }
        let byMurmur2: Int32
        let byCRC32: Int32
        switch mode {
        case .murmur2:
            byMurmur2 = Partitioner.murmur2.partition(of: key, partitionCount: n)
            return byMurmur2 == partition ? .consistent : .misrouted(expected: byMurmur2, partitioner: .murmur2)
        case .crc32:
            byCRC32 = Partitioner.crc32.partition(of: key, partitionCount: n)
            return byCRC32 == partition ? .consistent : .misrouted(expected: byCRC32, partitioner: .crc32)
        case .auto, .none:
            byMurmur2 = Partitioner.murmur2.partition(of: key, partitionCount: n)
            byCRC32 = Partitioner.crc32.partition(of: key, partitionCount: n)
        }
        if (byMurmur2 == partition) != (byCRC32 == partition) {
            if byMurmur2 == partition { onlyMurmur2 += 1 } else { onlyCRC32 += 1 }
        }
        switch expected {
        case .murmur2: return byMurmur2 == partition ? .consistent : .misrouted(expected: byMurmur2, partitioner: .murmur2)
        case .crc32: return byCRC32 == partition ? .consistent : .misrouted(expected: byCRC32, partitioner: .crc32)
        case nil: return .unchecked
        }
    }

    /// Checks one record's partition against its key.
    public mutating func check(key: [UInt8], partition: Int32) -> Outcome {
        key.withUnsafeBytes { check(key: $0, partition: partition) }
    }
}
