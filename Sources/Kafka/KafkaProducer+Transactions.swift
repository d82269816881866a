import CRdKafka

/// The transactional API (exactly-once consume-transform-produce). Requires `transactional.id` in the
/// producer's config. Errors carry `isRetriable` (call again), `txnRequiresAbort` (call
/// `abortTransaction`, then start over) or `isFatal` (recreate the producer).
extension KafkaProducer {
    /// Registers the `transactional.id` with the coordinator and fences older instances. Call once, first.
    public func initTransactions(timeoutMs: Int) throws(KafkaError) {
        try KafkaError.check(rd_kafka_init_transactions(handle, Int32(clamping: timeoutMs)), "init transactions failed")
    }

    /// Starts a transaction; every message produced until commit/abort belongs to it.
    public func beginTransaction() throws(KafkaError) {
        try KafkaError.check(rd_kafka_begin_transaction(handle), "begin transaction failed")
    }

    /// Adds the consumer's "next offset to consume" per partition to the current transaction, so they are
    /// committed for the consumer's group if and only if the transaction commits.
    public func sendOffsetsToTransaction(
        _ offsets: [TopicPartition: Int64], groupMetadata: ConsumerGroupMetadata, timeoutMs: Int
    ) throws(KafkaError) {
        let list = PartitionList(offsets)
        try KafkaError.check(
            rd_kafka_send_offsets_to_transaction(handle, list.pointer, groupMetadata.pointer, Int32(clamping: timeoutMs)),
            "send offsets to transaction failed"
        )
    }

    /// Flushes the transaction's messages and commits it. `timeoutMs` -1 (librdkafka's recommendation) waits for at
    /// most the remaining transaction timeout. A retriable error (a timeout) means the commit goes on in the
    /// background: call this again, never start the transaction over, or it may be published twice.
    public func commitTransaction(timeoutMs: Int = -1) throws(KafkaError) {
        try KafkaError.check(rd_kafka_commit_transaction(handle, Int32(clamping: timeoutMs)), "commit transaction failed")
    }

    /// Aborts the current transaction; its messages are purged or marked aborted for read_committed consumers.
    public func abortTransaction(timeoutMs: Int = -1) throws(KafkaError) {
        try KafkaError.check(rd_kafka_abort_transaction(handle, Int32(clamping: timeoutMs)), "abort transaction failed")
    }
}
