import Kafka

/// Partition counts and offsets of the topics the tool uses, read through a plain consumer (the Kafka module has
/// no metadata call; a watermark query per partition does the job and also proves the broker answers).
enum KafkaTopology {
    /// How many partitions `topic` has: partitions 0, 1, ... answer a watermark query until one does not.
    /// Throws if partition 0 does not answer (broker unreachable or topic missing).
    static func partitionCount(of topic: String, consumer: KafkaConsumer, brokers: String) throws -> Int32 {
        do {
            _ = try consumer.watermarks(TopicPartition(topic: topic, partition: 0), timeoutMs: 10_000)
        } catch {
            throw LoadTestError(
                "Kafka at \(brokers) did not answer for topic '\(topic)' (\(error)). Is the broker reachable, and does "
                    + "the topic exist? With --brokers the topics must be created beforehand (see loadtest/README.md).")
        }
        var count: Int32 = 1
        while count < 1024 {
            do {
                _ = try consumer.watermarks(TopicPartition(topic: topic, partition: count), timeoutMs: 3000)
                count += 1
            } catch {
                break
            }
        }
        return count
    }

    /// The high watermark (next offset to be written) of every partition of `topic`.
    static func endOffsets(of topic: String, partitions: Int32, consumer: KafkaConsumer) throws -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for p in 0..<partitions {
            let tp = TopicPartition(topic: topic, partition: p)
            offsets[tp] = try consumer.watermarks(tp, timeoutMs: 10_000).high
        }
        return offsets
    }

    /// Low and high watermarks of every partition of `topic`.
    static func watermarks(of topic: String, partitions: Int32, consumer: KafkaConsumer) throws -> [(low: Int64, high: Int64)] {
        try (0..<partitions).map { p in
            try consumer.watermarks(TopicPartition(topic: topic, partition: p), timeoutMs: 10_000)
        }
    }
}
