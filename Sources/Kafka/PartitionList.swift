import CRdKafka

/// Owns one `rd_kafka_topic_partition_list_t` and destroys it exactly once.
final class PartitionList {
    let pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>

    init(capacity: Int) {
        pointer = rd_kafka_topic_partition_list_new(Int32(clamping: max(capacity, 1)))
    }

    /// Partitions with no offset (`RD_KAFKA_OFFSET_INVALID`).
    convenience init(_ partitions: [TopicPartition]) {
        self.init(capacity: partitions.count)
        for partition in partitions { add(partition, offset: KafkaOffset.invalid) }
    }

    /// Partitions with offsets, in a stable (sorted) order.
    convenience init(_ offsets: [TopicPartition: Int64]) {
        self.init(capacity: offsets.count)
        for (partition, offset) in offsets.sorted(by: { $0.key < $1.key }) { add(partition, offset: offset) }
    }

    /// Takes ownership of a list librdkafka allocated for us (e.g. `rd_kafka_assignment`).
    init(adopting pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        self.pointer = pointer
    }

    deinit { rd_kafka_topic_partition_list_destroy(pointer) }

    func add(_ partition: TopicPartition, offset: Int64) {
        let element = rd_kafka_topic_partition_list_add(pointer, partition.topic, partition.partition)!
        element.pointee.offset = offset
    }

    var partitions: [TopicPartition] { PartitionList.partitions(in: pointer) }

    /// Partition -> offset for every element.
    var offsets: [TopicPartition: Int64] {
        var result: [TopicPartition: Int64] = [:]
        for element in PartitionList.elements(of: pointer) {
            result[TopicPartition(element)] = element.offset
        }
        return result
    }

    /// Throws the first per-partition error, if any.
    func checkElements(_ what: String) throws(KafkaError) {
        for element in PartitionList.elements(of: pointer) where element.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(element.err, "\(what) (\(TopicPartition(element)))")
        }
    }

    // MARK: Reading lists we do not own (e.g. the one passed to a rebalance callback)

    static func elements(
        of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>
    ) -> UnsafeMutableBufferPointer<rd_kafka_topic_partition_t> {
        UnsafeMutableBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt))
    }

    static func partitions(in list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
        elements(of: list).map(TopicPartition.init)
    }
}

extension TopicPartition {
    init(_ element: rd_kafka_topic_partition_t) {
        self.init(topic: String(cString: element.topic), partition: element.partition)
    }
}
