import Foundation
import Kafka
import Redis

/// Kafka and Redis for one run: librdkafka's mock cluster in this process and a throwaway redis-server child by
/// default, or the servers the user named (whose topics must already exist).
final class TestEnvironment: @unchecked Sendable {
    // @unchecked Sendable: set up and torn down on the main thread; the cluster and server are thread-safe.
    let brokers: String
    let redisHost: String
    let redisPort: Int
    /// Partitions per topic name.
    let partitions: [String: Int32]
    let topics: OutputTopicNames
    private(set) var cluster: MockKafkaCluster?
    private(set) var redisServer: RedisServerProcess?
    private(set) var redisCluster: RedisClusterProcess?

    /// How Vigil reaches Redis (a cluster's first node as the seed, the others as further seeds).
    var redisEndpoint: RedisEndpoint {
        if let redisCluster { return redisCluster.seed }
        return RedisEndpoint(host: redisHost, port: redisPort)
    }
    /// `--redis` for Vigil: HOST:PORT, or every cluster node.
    var redisSeedList: String {
        ([redisEndpoint.address] + redisEndpoint.otherSeeds.map(\.description)).joined(separator: ",")
    }
    /// The servers whose memory and keys the run measures: the one Redis, or the cluster's masters.
    var redisProbeNodes: [RedisAddress] {
        guard let redisCluster else { return [RedisAddress(host: redisHost, port: redisPort)] }
        return ((try? redisCluster.masters()) ?? []).map { RedisAddress(host: $0.host, port: $0.port) }
    }

    var isMockKafka: Bool { cluster != nil }
    var isThrowawayRedis: Bool { redisServer != nil || redisCluster != nil }

    /// The mock cluster keeps at most this many bytes of record batches per partition (librdkafka 2.x,
    /// rdkafka_mock.c: `max_size = 5 MiB`); older batches are deleted as new ones arrive.
    static let mockPartitionBytes = 5 * 1024 * 1024

    /// `redisCluster`: replicas per master of a throwaway 3-master Redis Cluster, nil for a single redis-server.
    init(brokers: String?, redis: String?, redisCluster: Int? = nil, partitions: Int32, topics: OutputTopicNames) throws {
        self.topics = topics
        if let brokers {
            self.brokers = brokers
            let probe = try KafkaConsumer(config: [
                "bootstrap.servers": brokers, "client.id": "vigil-loadtest-probe", "socket.timeout.ms": "10000",
            ])
            var counts: [String: Int32] = [:]
            for topic in topics.all {
                counts[topic] = try KafkaTopology.partitionCount(of: topic, consumer: probe, brokers: brokers)
            }
            self.partitions = counts
            try? probe.close()
        } else {
            let cluster = try MockKafkaCluster(brokers: 1)
            for topic in topics.all { try cluster.createTopic(topic, partitions: partitions) }
            self.cluster = cluster
            self.brokers = cluster.bootstrapServers
            self.partitions = Dictionary(uniqueKeysWithValues: topics.all.map { ($0, partitions) })
        }

        if let redis {
            let parts = redis.split(separator: ":")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                throw LoadTestError("--redis must be HOST:PORT, got '\(redis)'")
            }
            redisHost = String(parts[0])
            redisPort = port
        } else if let replicas = redisCluster {
            let cluster: RedisClusterProcess
            do {
                cluster = try RedisClusterProcess.start(masters: 3, replicasPerMaster: replicas, nodeTimeoutMs: 5000)
            } catch {
                throw LoadTestError("could not start a throwaway Redis Cluster: \(error)")
            }
            self.redisCluster = cluster
            redisHost = cluster.seed.host
            redisPort = cluster.seed.port
        } else {
            let server: RedisServerProcess
            do {
                server = try RedisServerProcess.start()
            } catch {
                throw LoadTestError("could not start a throwaway redis-server: \(error)")
            }
            redisServer = server
            redisHost = server.host
            redisPort = server.port
        }
    }

    /// Stops the throwaway redis-server and the mock cluster (in that order; both bounded).
    func shutDown() {
        redisServer?.stop()
        redisServer = nil
        redisCluster?.stop()
        redisCluster = nil
        cluster = nil
    }

    /// Commits `offsets` for consumer group `group`, so that a Vigil joining that group starts exactly there
    /// (rather than at the beginning of a topic that may hold older traffic).
    func commitStartOffsets(group: String, topic: String) throws -> [TopicPartition: Int64] {
        let consumer = try KafkaConsumer(config: [
            "bootstrap.servers": brokers, "client.id": "vigil-loadtest-offsets", "group.id": group,
        ])
        defer { try? consumer.close() }
        let ends = try KafkaTopology.endOffsets(of: topic, partitions: partitions[topic] ?? 1, consumer: consumer)
        try consumer.commit(ends, async: false)
        return ends
    }

    /// A consumer for watermark queries.
    func makeProbe() throws -> KafkaConsumer {
        try KafkaConsumer(config: ["bootstrap.servers": brokers, "client.id": "vigil-loadtest-probe"])
    }
}
