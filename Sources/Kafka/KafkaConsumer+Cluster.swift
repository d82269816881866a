import CRdKafka

/// Whether the cluster answers this consumer's client, for readiness.
extension KafkaConsumer {
    /// Asks a broker for metadata of the topics this client already knows (never creates one), waiting at most
    /// `timeoutMs`; throws if none answered. Thread-safe: it may run beside `pollBatch`.
    public func probeCluster(timeoutMs: Int) throws(KafkaError) {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 0, nil, &metadata, Int32(clamping: timeoutMs))
        if let metadata { rd_kafka_metadata_destroy(metadata) }
        try KafkaError.check(err, "no broker answered a metadata request within \(timeoutMs) ms")
    }

    /// The last error librdkafka reported about the client's connections (all brokers down, a transport error, name
    /// resolution, authentication) if it came within the last `withinMs` milliseconds. Such errors arrive through the
    /// error callback, served by `pollBatch`.
    public func recentClientError(withinMs: Int64) -> KafkaError? {
        guard let last = lastClientError, Monotonic.nowMs() - last.atMs <= withinMs else { return nil }
        return last.error
    }
}
