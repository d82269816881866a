import Kafka
import Logging
import VigilCore

extension Pipeline {
    /// Counts the records that sit on another partition than the input partitioner gives their key, and warns about
    /// them (at most once a minute per partition, never with the card). They are decided as usual: card state is per
    /// partition, so their features are exact for what their partition saw; but the card's history is split across
    /// partitions, which the operator must fix at the publishers (`docs/partitioning.md`).
    func checkRouting(_ messages: [KafkaMessage]) -> Int {
        let nowMs = Self.nowMs()
        let (misrouted, warnings, before, after) = partitions.routing.withLock { watch in
            let before = watch.check.expected
            let (misrouted, warnings) = watch.observe(messages, nowMs: nowMs)
            return (misrouted, warnings, before, watch.check.expected)
        }
        for warning in warnings {
            logger.warning("records arrive on a partition their card does not map to; that card's history is split across partitions", metadata: [
                "partition": "\(warning.partition)", "partition.expected": "\(warning.expected)",
                "partitioner": "\(warning.partitioner.rawValue)", "records": "\(warning.records)",
                "topic": "\(config.topics.transactions)",
            ])
        }
        if after != before {
            if let after { logger.info("input records follow a partitioner", metadata: ["partitioner": "\(after.rawValue)"]) }
            stats.update { $0.inputPartitioner = after?.rawValue }
        }
        return misrouted
    }

    /// Reads the input topic's partition count from the broker and sets up the partitioner check with it (on every
    /// assignment: partitions added to the topic change where keys map to).
    func refreshInputPartitionCount() {
        var count: Int32?
        if config.inputPartitioner != .none {
            do {
                count = try consumer.partitionCount(of: config.topics.transactions, timeoutMs: config.kafkaTimeoutMs)
            } catch {
                logger.warning("could not read the input topic's partition count; partitions are not checked until the next assignment", metadata: [
                    "topic": "\(config.topics.transactions)", "error": "\(error)",
                ])
            }
        }
        let mode = config.inputPartitioner
        let expected = partitions.routing.withLock { watch in
            watch.configure(mode: mode, partitionCount: count)
            return watch.check.expected
        }
        stats.update { $0.inputPartitioner = expected?.rawValue }
    }
}
