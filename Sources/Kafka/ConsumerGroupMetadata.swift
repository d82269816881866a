import CRdKafka

/// A consumer's group identity (group id, generation, member id), as needed by
/// `KafkaProducer.sendOffsetsToTransaction` to commit offsets atomically with a transaction.
public final class ConsumerGroupMetadata: @unchecked Sendable {
    // @unchecked Sendable is safe: the wrapped rd_kafka_consumer_group_metadata_t is immutable after
    // creation and librdkafka only reads it.
    let pointer: OpaquePointer

    init(adopting pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        rd_kafka_consumer_group_metadata_destroy(pointer)
    }
}
