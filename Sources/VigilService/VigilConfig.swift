import Redis
import VigilCore

/// Everything `vigil serve` needs, with documented defaults. Built from flags and environment by the CLI and
/// validated once at start (`validate()`), so a bad setting stops Vigil with a clear message before it connects.
public struct VigilConfig: Sendable {
    /// Kafka bootstrap servers, `HOST:PORT[,HOST:PORT...]`.
    public var brokers = "127.0.0.1:9092"
    public var redisHost = "127.0.0.1"
    public var redisPort = 6379
    /// ACL user and password for every Redis connection (`--redis-user`, `VIGIL_REDIS_PASSWORD[_FILE]`).
    public var redisCredentials: RedisCredentials?
    /// TLS to Redis; nil is plain TCP.
    public var redisTLS: RedisTLSOptions?
    /// Redis is a Redis Cluster; `redisHost:redisPort` is a seed node.
    public var redisCluster = false
    /// Further cluster nodes to learn the slot map from.
    public var redisOtherSeeds: [RedisAddress] = []
    /// Everything a Redis connection needs (state, models, merchant risk, probes, start checks).
    public var redisEndpoint: RedisEndpoint {
        var endpoint = RedisEndpoint(
            host: redisHost, port: redisPort, credentials: redisCredentials, tls: redisTLS, cluster: redisCluster)
        endpoint.otherSeeds = redisOtherSeeds
        return endpoint
    }
    /// Key prefix in Redis; separate deployments sharing a Redis need separate prefixes (a prefix belongs to one
    /// consumer group and input topic: `{prefix}:deployment`, checked at start and on every claim).
    public var redisPrefix = "vigil"
    public var group = "vigil"
    public var topics = Topics()
    public var modelPath = "models/baseline.json"
    /// Where models come from: the files (`modelPath`, `shadowModelPath`) or Redis, where `vigil train` publishes
    /// them for every instance (then `modelPath` is only the fallback until something is published).
    public var modelSource = ModelSource.file
    /// A candidate model scored in shadow beside the active one (file source only; with Redis the shadow slot is
    /// followed instead).
    public var shadowModelPath: String?
    /// How often the model file is checked for changes.
    public var modelPollMs = 1000
    public var features = FeatureConfig()
    /// The feature catalog served (`--feature-catalog`): 1 is exactly what Vigil served before catalog 2 (feature
    /// records of schema version 1, no merchant lookups); 2 adds the card's day windows and the merchant features
    /// from the merchant-risk snapshot in Redis (`docs/contract.md`, `docs/merchant-risk.md`). A model naming a
    /// feature the catalog does not serve is refused.
    public var featureCatalog = FeatureCatalog.default
    /// Most records per batch.
    public var batchSize = 2000
    /// Longest wait for the first record of a batch.
    public var batchWaitMs = 20
    /// Prepare the next batch while the previous one's outputs and state are written (`Pipeline+Overlap.swift`).
    /// Off: one batch at a time (for comparison).
    public var overlapBatches = true
    /// Memory for the owned-card cache (`OwnedCardCache`), in bytes; 0 turns it off.
    public var cardCacheBytes = 64 << 20
    /// Consumer group session timeout; the broker's minimum is usually 6000.
    public var sessionTimeoutMs = 10_000
    /// How long to wait for the broker to acknowledge a batch's outputs before the batch is retried.
    public var produceTimeoutMs = 30_000
    /// The partitioner the payment systems use for the input topic; records on other partitions are counted as
    /// misrouted (`docs/partitioning.md`).
    public var inputPartitioner = InputPartitioner.auto
    /// Where a partition starts that neither Redis nor the group knows (a first deployment; README, "First start").
    public var firstStart = FirstStart.warm
    /// `warm`: records at most this old (by Kafka timestamp) when Vigil first starts are decided; older ones only
    /// rebuild the card state.
    public var firstStartLookbackMs: Int64 = 300_000
    /// Extra librdkafka properties applied to the consumer and producer, set in code; `kafka` goes over them.
    public var kafkaProperties: [String: String] = [:]
    /// librdkafka properties from `--kafka-config`, `VIGIL_KAFKA_*` and `--kafka-property`, for both clients or one
    /// (docs/kafka-settings.md); its problems are reported by `validate()`.
    public var kafka = KafkaSettings()
    /// The extra librdkafka properties of the consumer (and of the metadata client of the checks at start).
    public var consumerKafkaProperties: [String: String] { kafkaProperties.merging(kafka.consumer) { $1 } }
    /// The extra librdkafka properties of the producer.
    public var producerKafkaProperties: [String: String] { kafkaProperties.merging(kafka.producer) { $1 } }
    public var clientId = "vigil"
    /// Exactly-once (Kafka transactions, the default) or at-least-once.
    public var mode = DeliveryMode.exactlyOnce
    /// Transactional id of the producer in exactly-once mode. Default: `vigil-<group>-<host>-<pid>`, unique per
    /// process; set a stable one per instance to fence that instance's previous incarnation at once.
    public var transactionalId: String?
    /// Port of the `/healthz`, `/readyz`, `/metrics` endpoint; nil turns it off.
    public var httpPort: Int? = 8686
    /// Address the endpoint listens on: every interface by default (probes and scrapers come from outside the host
    /// or pod); `127.0.0.1` keeps it on the host.
    public var httpHost = "0.0.0.0"
    /// `/readyz` reports not ready when the total lag exceeds this many records.
    public var readyMaxLag: Int64 = 100_000
    /// Bound on any single wait for Kafka (transaction calls, flush) before the batch is retried.
    public var kafkaTimeoutMs = 30_000
    /// How long a stop (SIGTERM) may take: the batches in flight get this long to finish, less a margin to leave the
    /// group; then Vigil exits anyway, and what was not stored is processed again by the next owner, as after a
    /// crash. Fits Kubernetes' default 30 s grace period.
    public var shutdownTimeoutMs = 20_000
    /// Exactly-once: after each transaction, commit its offsets again with a plain commit (synchronously, before the
    /// next transaction). Needed where the broker does not commit transactional offsets (librdkafka's mock
    /// cluster); on a real broker it repeats what the transaction committed and costs one round trip per batch.
    public var plainCommitAfterTransaction = true
    /// Exactly-once: at most one Kafka transaction begins per this many ms. A batch ready sooner after the previous
    /// transaction began waits (at most this long) and shares the next transaction with every batch ready by then:
    /// each transaction costs the same round trips (and librdkafka CPU) whatever it carries, so under load this cuts
    /// the cost per record; a batch ready later than this after the previous begin starts its transaction at once,
    /// so light traffic waits for nothing. 0: one transaction per batch, at once (`TransactionCadence`).
    public var transactionIntervalMs = 20
    /// Exactly-once: most batches in one transaction; a transaction that has them begins at once.
    public var transactionMaxBatches = 8
    /// How long the checks at start (`StartupChecks`) wait for a broker and for Redis to answer before Vigil gives up
    /// and exits, naming the setting.
    public var startupTimeoutMs = 10_000
    /// Start even when Redis's `maxmemory-policy` may evict keys (a warning is logged). Off: such a Redis is refused
    /// at start, because an evicted card key silently restarts that card's features from zero.
    public var allowEvictingRedis = false
    /// `/healthz` fails when the pipeline shows no progress (a batch stored, an idle poll with no lag, a bounded wait
    /// for Redis or Kafka ending) for longer than this: a stage or the pipeline thread is stuck. Longer than the
    /// longest single wait Vigil makes (a transaction commit: up to `transaction.timeout.ms`, 60 s).
    public var stallTimeoutMs = 120_000
    /// librdkafka's `statistics.interval.ms` for the consumer and the producer: how often their statistics (broker
    /// round trips and states, lag, transaction state) are refreshed for `/metrics`. 0 turns them off.
    public var kafkaStatisticsIntervalMs = 15_000

    /// The longest out-of-orderness, lateness, and the two together: 7 days.
    public static let maxLatenessBoundsMs = 7 * Windows.day

    public init() {}

    /// Checks every setting; the error lists all problems found, one per line.
    public func validate() throws(ConfigError) {
        var problems: [String] = []
        let brokerList = brokers.split(separator: ",", omittingEmptySubsequences: false)
        if brokers.isEmpty || brokerList.contains(where: { !Self.isHostPort($0) }) {
            problems.append("brokers must be HOST:PORT[,HOST:PORT...], got '\(brokers)'")
        }
        if redisHost.isEmpty { problems.append("redis host is empty") }
        if !(1...65535).contains(redisPort) { problems.append("redis port must be 1-65535, got \(redisPort)") }
        problems += redisTLS?.problems ?? []
        if redisPrefix.isEmpty || redisPrefix.contains(where: { " {}".contains($0) }) {
            problems.append("redis prefix must be non-empty, without spaces or braces (braces make Redis Cluster hash tags)")
        }
        if group.isEmpty { problems.append("group is empty") }
        if cardCacheBytes < 0 { problems.append("card cache size must be 0 (off) or more, got \(cardCacheBytes) bytes") }
        let names = [topics.transactions] + topics.outputs + [topics.shadow]
        for name in names where !Self.isTopicName(name) {
            problems.append("'\(name)' is not a valid Kafka topic name (1-249 of a-z A-Z 0-9 . _ -)")
        }
        if Set(names).count != names.count { problems.append("topic names must all differ: \(names.joined(separator: ", "))") }
        if !(1...100_000).contains(batchSize) { problems.append("batch size must be 1-100000, got \(batchSize)") }
        if !(0...10_000).contains(batchWaitMs) { problems.append("batch wait must be 0-10000 ms, got \(batchWaitMs)") }
        // Each bound is checked alone first, so that their sum cannot overflow.
        let latenessRange = 0...Self.maxLatenessBoundsMs
        let outOfOrderness = features.outOfOrdernessMs, lateness = features.latenessMs
        if !latenessRange.contains(outOfOrderness) {
            problems.append("out-of-orderness must be 0-\(Self.maxLatenessBoundsMs) ms (7 days), got \(outOfOrderness)")
        }
        if !latenessRange.contains(lateness) {
            problems.append("lateness must be 0-\(Self.maxLatenessBoundsMs) ms (7 days), got \(lateness)")
        }
        if latenessRange.contains(outOfOrderness), latenessRange.contains(lateness),
           outOfOrderness + lateness > Self.maxLatenessBoundsMs {
            problems.append(
                "out-of-orderness plus lateness must be at most 7 days (\(Self.maxLatenessBoundsMs) ms), got "
                    + "\(outOfOrderness + lateness)")
        }
        if !(0...Self.maxLatenessBoundsMs).contains(firstStartLookbackMs) {
            problems.append(
                "first-start lookback must be 0-\(Self.maxLatenessBoundsMs) ms (7 days), got \(firstStartLookbackMs)")
        }
        if features.maxFutureMs <= 0 {
            problems.append(
                "max future must be > 0 ms (how far ahead of the clock a transaction may be dated), got "
                    + "\(features.maxFutureMs)")
        }
        if features.highRiskMccs.contains(where: { $0 > 9999 }) { problems.append("risky MCCs must be 4-digit codes") }
        if modelPath.isEmpty { problems.append("model path is empty") }
        if let shadow = shadowModelPath {
            if shadow.isEmpty { problems.append("shadow model path is empty") }
            if modelSource == .redis {
                problems.append("a shadow model file needs the file model source; with redis, publish the shadow with 'vigil model publish --shadow'")
            }
        }
        if !(100...600_000).contains(modelPollMs) { problems.append("model poll interval must be 100-600000 ms") }
        if !(1000...3_600_000).contains(sessionTimeoutMs) { problems.append("session timeout must be 1000-3600000 ms") }
        if !(0...86_400_000).contains(kafkaStatisticsIntervalMs) { problems.append("Kafka statistics interval must be 0-86400000 ms (0: off)") }
        if !(1000...3_600_000).contains(produceTimeoutMs) { problems.append("produce timeout must be 1000-3600000 ms") }
        if let port = httpPort, !(0...65535).contains(port) { problems.append("http port must be 0-65535, got \(port)") }
        if readyMaxLag < 0 { problems.append("ready max lag must be >= 0") }
        if !(1000...3_600_000).contains(kafkaTimeoutMs) { problems.append("kafka timeout must be 1000-3600000 ms") }
        if !(1000...600_000).contains(shutdownTimeoutMs) { problems.append("shutdown timeout must be 1000-600000 ms, got \(shutdownTimeoutMs)") }
        if !(1000...300_000).contains(startupTimeoutMs) {
            problems.append("startup timeout must be 1000-300000 ms, got \(startupTimeoutMs)")
        }
        if !(1000...3_600_000).contains(stallTimeoutMs) {
            problems.append("stall timeout must be 1000-3600000 ms, got \(stallTimeoutMs)")
        }
        if !(0...1000).contains(transactionIntervalMs) {
            problems.append("transaction interval must be 0-1000 ms, got \(transactionIntervalMs)")
        }
        if !(1...64).contains(transactionMaxBatches) {
            problems.append("transaction max batches must be 1-64, got \(transactionMaxBatches)")
        }
        if let id = transactionalId, id.isEmpty || id.utf8.count > 200 {
            problems.append("transactional id must be 1-200 bytes")
        }
        problems += kafka.problems
        if !problems.isEmpty { throw ConfigError(problems: problems) }
    }

    static func isHostPort(_ s: Substring) -> Bool {
        guard let colon = s.lastIndex(of: ":"), colon != s.startIndex,
              let port = Int(s[s.index(after: colon)...]), (1...65535).contains(port) else { return false }
        return true
    }

    static func isTopicName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 249 && s != "." && s != ".."
            && s.utf8.allSatisfy { c in
                (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 46 || c == 95 || c == 45
            }
    }
}

/// How outputs and offsets reach Kafka. See `docs/guarantees.md`.
public enum DeliveryMode: String, Sendable, CaseIterable {
    /// Each batch's outputs and consumed offsets commit in one Kafka transaction; readers use `read_committed`.
    case exactlyOnce = "exactly-once"
    /// Outputs are acknowledged before state and offsets are stored; a crash can repeat the last batch's outputs.
    case atLeastOnce = "at-least-once"
}

/// Where `vigil serve` takes its models from.
public enum ModelSource: String, Sendable, CaseIterable {
    /// `--model` (and `--shadow-model`), reloaded when they change: one machine.
    case file
    /// The models published in Redis (`ModelChannel`), for any number of instances on any number of machines.
    case redis
}

/// A configuration that cannot work; `problems` says what and why.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var problems: [String]
    public var description: String { "invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}

/// What a first start does with the history already on the input topic (a partition that Redis and the consumer
/// group know nothing of). A first deployment on a topic with days of retention must not alert on days-old payments.
public enum FirstStart: String, Sendable, CaseIterable {
    /// Replay the retained history into the card state without outputs, then decide the records from the cutoff on
    /// (the first record at most `firstStartLookbackMs` old, or the end of the log where the broker cannot say).
    case warm
    /// Decide only what is published from now on; card state starts empty.
    case latest
    /// Decide everything retained, oldest first.
    case earliest
}
