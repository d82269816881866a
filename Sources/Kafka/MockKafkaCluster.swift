import CRdKafka

/// librdkafka's in-process mock Kafka cluster (rdkafka_mock.h), for tests and the demo.
///
/// It serves the real Kafka protocol on loopback TCP ports, so clients in this or other processes connect
/// to `bootstrapServers`. Known limits (librdkafka 2.0.2): topics must be created with `createTopic`
/// first; each partition keeps only a few MB; transactions are accepted but not enforced; a group
/// rebalance waits `session.timeout.ms` - 1 s for members (3 s for the first join), so consumers in tests
/// should set `session.timeout.ms=6000`.
public final class MockKafkaCluster: @unchecked Sendable {
    // @unchecked Sendable is safe: the mock cluster runs on its own librdkafka thread and its
    // rd_kafka_mock_* functions are thread-safe (they post operations to that thread).
    private let host: OpaquePointer
    private let cluster: OpaquePointer

    /// The `bootstrap.servers` value for clients of this cluster.
    public let bootstrapServers: String

    /// Starts a cluster of `brokers` brokers with ids 1...brokers.
    public init(brokers: Int = 1) throws(KafkaError) {
        // A producer handle is only the cluster's host: it is never used to produce.
        let conf = try KafkaConfiguration.make(["log_level": "3"])
        let host = try KafkaConfiguration.newClient(RD_KAFKA_PRODUCER, conf, what: "mock cluster host")
        guard let cluster = rd_kafka_mock_cluster_new(host, Int32(clamping: brokers)) else {
            rd_kafka_destroy(host)
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, "creating a mock cluster of \(brokers) brokers failed")
        }
        self.host = host
        self.cluster = cluster
        self.bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(host)
    }

    /// Creates a topic (the mock does not support the CreateTopics admin request).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, replicationFactor)
        try KafkaError.check(err, "creating mock topic \(name) with \(partitions) partitions failed")
    }

    /// Disconnects the broker and refuses new connections (no leader change).
    public func setBrokerDown(_ brokerId: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_down(cluster, brokerId), "setting mock broker \(brokerId) down failed")
    }

    /// Lets the broker accept connections again.
    public func setBrokerUp(_ brokerId: Int32) throws(KafkaError) {
        try KafkaError.check(rd_kafka_mock_broker_set_up(cluster, brokerId), "setting mock broker \(brokerId) up failed")
    }

    /// Delays every response of the broker by `ms` milliseconds.
    public func setBrokerRoundTripTime(_ brokerId: Int32, ms: Int) throws(KafkaError) {
        let err = rd_kafka_mock_broker_set_rtt(cluster, brokerId, Int32(clamping: ms))
        try KafkaError.check(err, "setting mock broker \(brokerId) round-trip time failed")
    }

    /// Makes the next `errors.count` requests with this API key fail with these error codes, in order
    /// (e.g. Produce=0, Fetch=1, OffsetCommit=8; `KafkaError.Code.transport` disconnects the client).
    public func pushRequestErrors(apiKey: Int16, errors: [Int32]) throws(KafkaError) {
        guard apiKey >= 0 else {
            throw KafkaError(RD_KAFKA_RESP_ERR__INVALID_ARG, "pushing mock request errors failed: API key \(apiKey) < 0")
        }
        guard !errors.isEmpty else { return }
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, codes)
    }

    /// Makes `brokerId` the coordinator of `key` (a transactional id for `type` "transaction", a group id for
    /// "group"), so that one coordinator can be taken down without the partitions' leaders.
    public func setCoordinator(type: String, key: String, brokerId: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_coordinator_set(cluster, type, key, brokerId)
        try KafkaError.check(err, "setting mock \(type) coordinator of \(key) to broker \(brokerId) failed")
    }

    /// Moves a partition's leadership to `brokerId`.
    public func setPartitionLeader(topic: String, partition: Int32, brokerId: Int32) throws(KafkaError) {
        let err = rd_kafka_mock_partition_set_leader(cluster, topic, partition, brokerId)
        try KafkaError.check(err, "setting the leader of mock partition \(topic)[\(partition)] failed")
    }

    /// Forgets injected errors for this API key.
    public func clearRequestErrors(apiKey: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey)
    }
}
