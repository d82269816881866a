import CRdKafka

/// A high-level (consumer group) Kafka consumer, also usable without a group via `assign`.
///
/// `config` holds librdkafka properties. Without `group.id` the consumer is for `assign` only (a private
/// placeholder group id is set, because librdkafka's consumer API needs one). Unless given, `enable.auto.commit` and `enable.auto.offset.store`
/// are set to `false`: the owner commits explicitly what it has processed. Rebalances support both the
/// eager and the cooperative (`partition.assignment.strategy=cooperative-sticky`) protocols and are
/// reported to the `RebalanceHandler`.
///
/// All methods block the calling thread (some for up to their timeout): call them from a dedicated
/// thread, not from Swift's cooperative pool. Poll from one thread at a time.
public final class KafkaConsumer: @unchecked Sendable {
    // @unchecked Sendable is safe: librdkafka's rd_kafka_t is thread-safe for every call made here, and the
    // Swift state (`callbacks`, `counters`, `closed`) is behind locks.
    let handle: OpaquePointer
    private let callbacks: ConsumerCallbacks
    let counters = Locked(Counters())
    private let closed = Locked(false)

    struct Counters {
        var consumeErrors = 0
        var droppedOnRevoke = 0
        var lastConsumeError: KafkaError?
    }

    /// Creates the consumer. Throws a `KafkaError` naming the property if any property is unknown or invalid.
    public init(config: [String: String], rebalance handler: RebalanceHandler? = nil) throws(KafkaError) {
        var config = config
        if config["enable.auto.commit"] == nil { config["enable.auto.commit"] = "false" }
        if config["enable.auto.offset.store"] == nil { config["enable.auto.offset.store"] = "false" }
        if config["group.id"] == nil {
            // librdkafka's consumer API (assign, consumer_poll) needs a group object even without a group;
            // a private id gives it one. It never joins (no subscribe) and nothing else uses it.
            config["group.id"] = "vigil-ungrouped-\(UInt64.random(in: 0...UInt64.max))"
        }
        let conf = try KafkaConfiguration.make(config)
        let callbacks = ConsumerCallbacks(handler: handler)
        rd_kafka_conf_set_rebalance_cb(conf, ConsumerCallbacks.rebalanceCallback)
        rd_kafka_conf_set_offset_commit_cb(conf, ConsumerCallbacks.offsetCommitCallback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(callbacks).toOpaque())
        let handle = try KafkaConfiguration.newClient(RD_KAFKA_CONSUMER, conf, what: "Kafka consumer")
        // Route all events (errors, rebalances) to the consumer queue served by rd_kafka_consumer_poll.
        let err = rd_kafka_poll_set_consumer(handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            rd_kafka_destroy(handle)
            throw KafkaError(err, "redirecting the consumer's main queue failed")
        }
        self.handle = handle
        self.callbacks = callbacks
    }

    deinit {
        if !closed.withLock({ $0 }) { _ = rd_kafka_consumer_close(handle) }
        rd_kafka_destroy(handle)
    }

    /// The handler told about assignments and revocations; may be replaced at any time (e.g. right after
    /// init, to capture the consumer itself). Takes effect from the next rebalance callback.
    public var rebalanceHandler: RebalanceHandler? {
        get { callbacks.handler }
        set { callbacks.handler = newValue }
    }

    /// Joins the group (`group.id`) and subscribes to `topics`, replacing any earlier subscription.
    /// Partitions arrive through the rebalance handler during `pollBatch`.
    public func subscribe(topics: [String]) throws(KafkaError) {
        let list = PartitionList(capacity: topics.count)
        for topic in topics { list.add(TopicPartition(topic: topic, partition: -1), offset: KafkaOffset.invalid) }
        try KafkaError.check(rd_kafka_subscribe(handle, list.pointer), "subscribe to \(topics) failed")
    }

    /// Reads these partitions without a group, starting at the given offsets (`KafkaOffset.beginning`,
    /// `.end`, `.stored` or a concrete offset). Replaces any earlier assignment.
    public func assign(_ partitions: [TopicPartition: Int64]) throws(KafkaError) {
        let list = PartitionList(partitions)
        try KafkaError.check(rd_kafka_assign(handle, list.pointer), "assign \(partitions.keys.sorted()) failed")
    }

    /// Collects up to `maxMessages` messages: waits up to `timeoutMs` for the first, then takes whatever is
    /// already fetched without waiting. Rebalance callbacks run inside this call. If partitions are revoked
    /// while collecting, messages already collected from them are dropped (their new owner will read them
    /// again from the committed offsets) and the call returns early with the rest.
    ///
    /// Partition EOF events are skipped; non-fatal consume errors are skipped and counted in
    /// `consumeErrorCount` / `lastConsumeError`. Fatal errors throw; so does a failed assign during a
    /// rebalance (from the call after the one that served the rebalance, so no collected message is lost).
    public func pollBatch(maxMessages: Int, timeoutMs: Int) throws(KafkaError) -> [KafkaMessage] {
        if let error = callbacks.startBatch() { throw error }
        var messages: [KafkaMessage] = []
        messages.reserveCapacity(min(maxMessages, 4096))
        let deadline = Monotonic.nowMs() + Int64(timeoutMs)
        var topicNames = TopicNameCache()

        while messages.count < maxMessages {
            let wait = messages.isEmpty ? max(0, deadline - Monotonic.nowMs()) : 0
            let raw = rd_kafka_consumer_poll(handle, Int32(clamping: wait))
            defer { if let raw { rd_kafka_message_destroy(raw) } }

            if let revoked = callbacks.revokedSinceStart() {
                // librdkafka already discards fetched-but-unpolled messages of revoked partitions; these are
                // the ones this batch took before the revocation was served.
                if let raw, let message = try convert(raw, &topicNames) { messages.append(message) }
                let dropped = KafkaConsumer.removeMessages(of: revoked, from: &messages)
                if dropped > 0 { counters.withLock { $0.droppedOnRevoke += dropped } }
                break
            }
            guard let raw else {
                if messages.isEmpty && Monotonic.nowMs() < deadline { continue }
                break
            }
            if let message = try convert(raw, &topicNames) { messages.append(message) }
        }
        return messages  // an assign error recorded during this call is thrown by the next one
    }

    /// Non-fatal consume errors skipped by `pollBatch` since the consumer was created.
    public var consumeErrorCount: Int { counters.withLock { $0.consumeErrors } }

    /// Messages `pollBatch` collected and then dropped because their partitions were revoked mid-batch
    /// (they are redelivered to the partitions' next owner from the committed offsets).
    public var droppedOnRevokeCount: Int { counters.withLock { $0.droppedOnRevoke } }

    /// The most recent non-fatal consume error skipped by `pollBatch`.
    public var lastConsumeError: KafkaError? { counters.withLock { $0.lastConsumeError } }

    /// Commits, for each partition, the offset of the next message to consume (last processed + 1).
    /// `async: false` waits for the broker and throws on any partition's failure. `async: true` returns at
    /// once; its outcome arrives during a later `pollBatch` and failures show in `commitFailureCount`.
    public func commit(_ offsets: [TopicPartition: Int64], async: Bool) throws(KafkaError) {
        guard !offsets.isEmpty else { return }  // an empty list would mean "commit the current assignment"
        let list = PartitionList(offsets)
        try KafkaError.check(rd_kafka_commit(handle, list.pointer, async ? 1 : 0), "commit of \(offsets.count) offsets failed", handle: handle)
        if !async { try list.checkElements("commit failed") }
    }

    /// Offset commits reported as failed (async ones, and sync ones that also threw), since creation.
    public var commitFailureCount: Int { callbacks.commitFailures.count }

    /// The most recent failed offset commit.
    public var lastCommitError: KafkaError? { callbacks.commitFailures.last }

    /// The group's committed offsets; partitions without one are left out.
    public func committed(_ partitions: [TopicPartition], timeoutMs: Int) throws(KafkaError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = PartitionList(partitions)
        try KafkaError.check(rd_kafka_committed(handle, list.pointer, Int32(clamping: timeoutMs)), "fetching committed offsets failed", handle: handle)
        try list.checkElements("fetching committed offset failed")
        return list.offsets.filter { $0.value >= 0 }
    }

    /// Moves the fetch position of an assigned partition; the next messages from it start at `offset`.
    public func seek(_ partition: TopicPartition, to offset: Int64, timeoutMs: Int) throws(KafkaError) {
        let list = PartitionList([partition: offset])
        try KafkaError.check(rd_kafka_seek_partitions(handle, list.pointer, Int32(clamping: timeoutMs)), "seek \(partition) to \(offset) failed")
        try list.checkElements("seek to \(offset) failed")
    }

    /// Stops fetching from these partitions (they stay assigned; e.g. for back-pressure).
    public func pause(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = PartitionList(partitions)
        try KafkaError.check(rd_kafka_pause_partitions(handle, list.pointer), "pause failed")
        try list.checkElements("pause failed")
    }

    /// Resumes fetching from paused partitions.
    public func resume(_ partitions: [TopicPartition]) throws(KafkaError) {
        let list = PartitionList(partitions)
        try KafkaError.check(rd_kafka_resume_partitions(handle, list.pointer), "resume failed")
        try list.checkElements("resume failed")
    }

    /// The partitions currently assigned to this consumer, sorted.
    public func assignment() throws(KafkaError) -> [TopicPartition] {
        var pointer: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        try KafkaError.check(rd_kafka_assignment(handle, &pointer), "reading the assignment failed")
        guard let pointer else { return [] }
        return PartitionList(adopting: pointer).partitions.sorted()
    }

    /// The offset of the next message to be fetched per partition (last consumed + 1), where known.
    public func positions(_ partitions: [TopicPartition]) throws(KafkaError) -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = PartitionList(partitions)
        try KafkaError.check(rd_kafka_position(handle, list.pointer), "reading positions failed")
        return list.offsets.filter { $0.value >= 0 }
    }

    /// Asks the partition leader for the low (oldest) and high (next to be written) offsets.
    public func watermarks(_ partition: TopicPartition, timeoutMs: Int) throws(KafkaError) -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let err = rd_kafka_query_watermark_offsets(handle, partition.topic, partition.partition, &low, &high, Int32(clamping: timeoutMs))
        try KafkaError.check(err, "querying watermarks of \(partition) failed")
        return (low, high)
    }

    /// For each partition, the earliest offset whose record timestamp is at or after `timestampMs`
    /// (`rd_kafka_offsets_for_times`); nil where the broker knows none (every record is older, or the broker cannot
    /// answer by time: librdkafka's mock cluster answers -1 for every time).
    public func offsetsForTimes(_ partitions: [TopicPartition], timestampMs: Int64, timeoutMs: Int) throws(KafkaError)
        -> [TopicPartition: Int64?]
    {
        guard !partitions.isEmpty else { return [:] }
        let list = PartitionList(Dictionary(uniqueKeysWithValues: partitions.map { ($0, timestampMs) }))
        try KafkaError.check(
            rd_kafka_offsets_for_times(handle, list.pointer, Int32(clamping: timeoutMs)), "looking up offsets by time failed")
        try list.checkElements("looking up offsets by time failed")
        var result: [TopicPartition: Int64?] = [:]
        for (tp, offset) in list.offsets { result[tp] = offset >= 0 ? offset : nil }
        return result
    }

    /// The watermarks last seen in fetch responses, without a broker round trip (nil if none seen yet).
    /// The high watermark is what a lag metric needs; the low one is only known with `statistics.interval.ms`.
    public func cachedWatermarks(_ partition: TopicPartition) -> (low: Int64, high: Int64)? {
        var low: Int64 = -1
        var high: Int64 = -1
        let err = rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, high >= 0 else { return nil }
        return (low, high)
    }

    /// The consumer's current group metadata, for `KafkaProducer.sendOffsetsToTransaction`.
    public func groupMetadata() throws(KafkaError) -> ConsumerGroupMetadata {
        guard let pointer = rd_kafka_consumer_group_metadata(handle) else {
            throw KafkaError(RD_KAFKA_RESP_ERR__STATE, "reading consumer group metadata failed (no group.id?)")
        }
        return ConsumerGroupMetadata(adopting: pointer)
    }

    /// Leaves the group, calling the rebalance handler's `onRevoke` for the current assignment first.
    /// Call it from the polling thread once polling has stopped. Idempotent; `deinit` closes too if this
    /// was never called. Other methods fail after close.
    public func close() throws(KafkaError) {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        try KafkaError.check(rd_kafka_consumer_close(handle), "closing the consumer failed", handle: handle)
    }
}
