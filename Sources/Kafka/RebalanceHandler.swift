/// What a `KafkaConsumer` tells its owner about partition ownership.
///
/// Both closures are called synchronously from inside `KafkaConsumer.pollBatch` or `close`, on the polling
/// thread, while librdkafka waits for them: the consumer may be used from them (e.g. a synchronous
/// `commit` of the work finished for the partitions being revoked).
public struct RebalanceHandler: Sendable {
    /// The consumer was given these partitions (all of them under the eager protocol, the newly added ones
    /// under the cooperative one). Returns starting offsets to use instead of the committed ones; partitions
    /// not in the result start at the group's committed offset or per `auto.offset.reset`.
    public var onAssign: @Sendable ([TopicPartition]) -> [TopicPartition: Int64]
    /// The consumer is about to lose these partitions (also called when they were already lost, e.g. after a
    /// session timeout, in which case commits for them will fail).
    public var onRevoke: @Sendable ([TopicPartition]) -> Void

    public init(
        onAssign: @escaping @Sendable ([TopicPartition]) -> [TopicPartition: Int64] = { _ in [:] },
        onRevoke: @escaping @Sendable ([TopicPartition]) -> Void = { _ in }
    ) {
        self.onAssign = onAssign
        self.onRevoke = onRevoke
    }
}
