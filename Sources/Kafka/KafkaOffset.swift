import CRdKafka

/// Logical offsets understood by `KafkaConsumer.assign`, `seek` and a rebalance handler's overrides.
public enum KafkaOffset {
    /// The oldest message still in the partition.
    public static let beginning: Int64 = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// The next message produced after the assignment (skips everything already there).
    public static let end: Int64 = Int64(RD_KAFKA_OFFSET_END)
    /// The group's committed offset, or `auto.offset.reset` when there is none.
    public static let stored: Int64 = Int64(RD_KAFKA_OFFSET_STORED)
    /// No offset; in an assignment it means the same as `stored`.
    static let invalid: Int64 = Int64(RD_KAFKA_OFFSET_INVALID)
}
