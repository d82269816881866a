import CRdKafka

extension KafkaConsumer {
    /// The number of partitions of `topic`, asked of the broker (a metadata request, blocking up to `timeoutMs`).
    /// Throws if the broker cannot be asked or reports an error for the topic (e.g. it does not exist).
    public func partitionCount(of topic: String, timeoutMs: Int) throws(KafkaError) -> Int32 {
        guard let rkt = rd_kafka_topic_new(handle, topic, nil) else {
            throw KafkaError(rd_kafka_last_error(), "cannot create a handle for topic \(topic)")
        }
        defer { rd_kafka_topic_destroy(rkt) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, rkt, &metadata, Int32(clamping: timeoutMs))
        defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
        try KafkaError.check(err, "metadata of topic \(topic)", handle: handle)
        guard let metadata, metadata.pointee.topic_cnt > 0, let topics = metadata.pointee.topics else {
            throw KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "metadata of topic \(topic): topic not in the reply")
        }
        for i in 0..<Int(metadata.pointee.topic_cnt) where String(cString: topics[i].topic) == topic {
            try KafkaError.check(topics[i].err, "metadata of topic \(topic)")
            return Int32(topics[i].partition_cnt)
        }
        throw KafkaError(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "metadata of topic \(topic): topic not in the reply")
    }
}
