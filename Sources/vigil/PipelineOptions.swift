import ArgumentParser
import Logging
import Redis
import VigilCore
import VigilService

/// Options shared by `serve` and `demo`. Each default can be set by the environment variable named in its help.
struct PipelineOptions: ParsableArguments {
    @Option(help: "Kafka bootstrap servers HOST:PORT[,...] (env VIGIL_BROKERS).")
    var brokers = Environment.string("VIGIL_BROKERS", "127.0.0.1:9092")

    @Option(help: "Redis HOST:PORT; with --redis-cluster, one or more cluster nodes HOST:PORT[,HOST:PORT...] to learn the slot map from (env VIGIL_REDIS).")
    var redis = Environment.string("VIGIL_REDIS", "127.0.0.1:6379")

    @Flag(inversion: .prefixedNo, help: "Redis is a Redis Cluster: keys are routed by slot, each partition's keys on one slot (docs/state.md) (env VIGIL_REDIS_CLUSTER=1).")
    var redisCluster = Environment.bool("VIGIL_REDIS_CLUSTER", false)

    @OptionGroup(title: "Redis authentication and TLS")
    var redisSecurity: RedisSecurityOptions

    @Option(help: "Key prefix in Redis (env VIGIL_REDIS_PREFIX).")
    var redisPrefix = Environment.string("VIGIL_REDIS_PREFIX", "vigil")

    @Option(help: "Consumer group id (env VIGIL_GROUP).")
    var group = Environment.string("VIGIL_GROUP", "vigil")

    @Option(help: "Delivery mode: exactly-once (Kafka transactions) or at-least-once (env VIGIL_MODE).")
    var mode = Environment.string("VIGIL_MODE", "exactly-once")

    @Option(help: "Transactional id in exactly-once mode; default vigil-<group>-<host>-<pid> (env VIGIL_TRANSACTIONAL_ID).")
    var transactionalId = Environment.optionalString("VIGIL_TRANSACTIONAL_ID")

    @Option(help: "Model file; reloaded when it changes and on SIGHUP. With --model-source redis, only used until a model is published in Redis (env VIGIL_MODEL).")
    var model = Environment.string("VIGIL_MODEL", "models/baseline.json")

    @Option(help: "Where models come from: 'file' (--model, --shadow-model) or 'redis' (published by 'vigil train --publish-redis' for every instance) (env VIGIL_MODEL_SOURCE).")
    var modelSource = Environment.string("VIGIL_MODEL_SOURCE", "file")

    @Option(help: "Candidate model file scored in shadow beside --model; its verdicts go to --topic-shadow and never decide. File source only (env VIGIL_SHADOW_MODEL).")
    var shadowModel: String?

    @Option(help: "Input topic (env VIGIL_TOPIC_TRANSACTIONS).")
    var topicTransactions = Environment.string("VIGIL_TOPIC_TRANSACTIONS", "transactions")
    @Option(help: "Decisions topic (env VIGIL_TOPIC_DECISIONS).")
    var topicDecisions = Environment.string("VIGIL_TOPIC_DECISIONS", "fraud.decisions")
    @Option(help: "Alerts topic (env VIGIL_TOPIC_ALERTS).")
    var topicAlerts = Environment.string("VIGIL_TOPIC_ALERTS", "fraud.alerts")
    @Option(help: "Feature records topic (env VIGIL_TOPIC_FEATURES).")
    var topicFeatures = Environment.string("VIGIL_TOPIC_FEATURES", "fraud.features")
    @Option(help: "Late transactions topic (env VIGIL_TOPIC_LATE).")
    var topicLate = Environment.string("VIGIL_TOPIC_LATE", "fraud.late")
    @Option(help: "Dead-letter topic (env VIGIL_TOPIC_DLQ).")
    var topicDlq = Environment.string("VIGIL_TOPIC_DLQ", "fraud.dlq")
    @Option(help: "Shadow verdicts topic, written while a shadow model is set (env VIGIL_TOPIC_SHADOW).")
    var topicShadow = Environment.string("VIGIL_TOPIC_SHADOW", "fraud.shadow")

    @Option(help: "Partitioner of the payment systems publishing to the input topic: murmur2 (Java's default), crc32 (librdkafka's default consistent_random), auto (learn which of the two) or none; records on other partitions are counted as misrouted (env VIGIL_INPUT_PARTITIONER).")
    var inputPartitioner = Environment.string("VIGIL_INPUT_PARTITIONER", "auto")

    @Option(help: "What a first start (a partition neither Redis nor the consumer group knows) does with the history on the input topic: warm (rebuild card state from it without outputs, decide from the lookback on), latest (decide only new records) or earliest (decide everything retained) (env VIGIL_FIRST_START).")
    var firstStart = Environment.string("VIGIL_FIRST_START", "warm")

    @Option(parsing: .unconditional, help: "warm first start: records at most this many ms old when Vigil first starts are decided, older ones only rebuild state (env VIGIL_FIRST_START_LOOKBACK_MS).")
    var firstStartLookbackMs = Environment.int("VIGIL_FIRST_START_LOOKBACK_MS", 300_000)

    @Option(parsing: .unconditional, help: "Allowed out-of-orderness in ms: the watermark trails the highest event time by this (env VIGIL_OUT_OF_ORDERNESS_MS).")
    var outOfOrdernessMs = Environment.int("VIGIL_OUT_OF_ORDERNESS_MS", 300_000)

    @Option(parsing: .unconditional, help: "Allowed lateness in ms behind the watermark before a transaction goes to the late topic (env VIGIL_LATENESS_MS).")
    var latenessMs = Environment.int("VIGIL_LATENESS_MS", 3_600_000)

    @Option(parsing: .unconditional, help: "How far in ms a transaction may be dated ahead of the clock (the wall clock, or the record's Kafka timestamp if earlier); further ahead goes to the DLQ as out_of_range:event_time_ms (env VIGIL_MAX_FUTURE_MS).")
    var maxFutureMs = Environment.int("VIGIL_MAX_FUTURE_MS", 86_400_000)

    @Option(parsing: .unconditional, help: "Feature catalog served: 1 (card features only, feature records of schema version 1, no merchant lookups) or 2 (adds the card's 7/30-day windows and the merchant-risk features; feature records of schema version 2). A model naming a feature the catalog does not serve is refused (env VIGIL_FEATURE_CATALOG).")
    var featureCatalog = Environment.int("VIGIL_FEATURE_CATALOG", FeatureCatalog.default.rawValue)

    @Option(help: "Comma-separated high-risk MCCs (env VIGIL_RISKY_MCCS).")
    var riskyMccs = Environment.string("VIGIL_RISKY_MCCS", "4829,5967,6051,7995")

    @Option(parsing: .unconditional, help: "Most records per batch (env VIGIL_BATCH_SIZE).")
    var batchSize = Environment.int("VIGIL_BATCH_SIZE", 2000)

    @Option(parsing: .unconditional, help: "Longest wait in ms for the first record of a batch (env VIGIL_BATCH_WAIT_MS).")
    var batchWaitMs = Environment.int("VIGIL_BATCH_WAIT_MS", 20)

    @Flag(inversion: .prefixedNo, help: "Process one batch at a time instead of preparing the next while the previous one's outputs and state are written; for comparison (env VIGIL_SERIAL_BATCHES=1).")
    var serialBatches = Environment.bool("VIGIL_SERIAL_BATCHES", false)

    @Option(parsing: .unconditional, help: "Memory in MiB for the states of recently stored cards of owned partitions, read instead of Redis; 0 turns the cache off (env VIGIL_CARD_CACHE_MB).")
    var cardCacheMb = Environment.int("VIGIL_CARD_CACHE_MB", 64)

    @Option(parsing: .unconditional, help: "Consumer group session timeout in ms (env VIGIL_SESSION_TIMEOUT_MS).")
    var sessionTimeoutMs = Environment.int("VIGIL_SESSION_TIMEOUT_MS", 10_000)

    @Option(parsing: .unconditional, help: "Longest time in ms a stop (SIGTERM, SIGINT) may take; batches not stored by then are processed again by the next owner, as after a crash (env VIGIL_SHUTDOWN_TIMEOUT_MS).")
    var shutdownTimeoutMs = Environment.int("VIGIL_SHUTDOWN_TIMEOUT_MS", 20_000)

    @Flag(inversion: .prefixedNo, help: "Exactly-once: rely on each transaction to commit the consumed offsets, without repeating them in a plain commit after it. Right for a real broker (saves a round trip per batch); librdkafka's mock cluster needs the plain commit (env VIGIL_TRANSACTIONAL_OFFSETS_ONLY=1).")
    var transactionalOffsetsOnly = Environment.bool("VIGIL_TRANSACTIONAL_OFFSETS_ONLY", false)

    @Option(parsing: .unconditional, help: "Exactly-once: at most one Kafka transaction begins per this many ms; batches ready sooner wait (at most this long) and share the next one, which cuts the cost per record under load. 0: one transaction per batch, at once; 0-1000 (env VIGIL_TRANSACTION_INTERVAL_MS).")
    var transactionIntervalMs = Environment.int("VIGIL_TRANSACTION_INTERVAL_MS", 20)

    @Option(parsing: .unconditional, help: "Exactly-once: most batches in one transaction; one that has them begins at once; 1-64 (env VIGIL_TRANSACTION_MAX_BATCHES).")
    var transactionMaxBatches = Environment.int("VIGIL_TRANSACTION_MAX_BATCHES", 8)

    @Option(parsing: .unconditional, help: "Port of /healthz, /readyz and /metrics; 0 picks a free port, -1 turns it off (env VIGIL_HTTP_PORT).")
    var httpPort = Environment.int("VIGIL_HTTP_PORT", 8686)

    @Option(help: "Address /healthz, /readyz and /metrics listen on: 0.0.0.0 (every interface), 127.0.0.1 (this host only), :: or another local address (env VIGIL_HTTP_HOST).")
    var httpHost = Environment.string("VIGIL_HTTP_HOST", "0.0.0.0")

    @Option(parsing: .unconditional, help: "/readyz reports not ready when the total lag exceeds this many records (env VIGIL_READY_MAX_LAG).")
    var readyMaxLag = Environment.int("VIGIL_READY_MAX_LAG", 100_000)

    @Option(parsing: .unconditional, help: "How long in ms the checks at start wait for a broker and for Redis to answer before Vigil exits, naming the setting (env VIGIL_STARTUP_TIMEOUT_MS).")
    var startupTimeoutMs = Environment.int("VIGIL_STARTUP_TIMEOUT_MS", 10_000)

    @Option(parsing: .unconditional, help: "/healthz fails when the pipeline shows no progress for this many ms (a stuck stage); 1000-3600000 (env VIGIL_STALL_TIMEOUT_MS).")
    var stallTimeoutMs = Environment.int("VIGIL_STALL_TIMEOUT_MS", 120_000)

    @Flag(inversion: .prefixedNo, help: "Start even if Redis's maxmemory-policy may evict keys (anything but noeviction); an evicted card silently restarts its features from zero. Without it such a Redis is refused at start (env VIGIL_ALLOW_EVICTING_REDIS=1).")
    var allowEvictingRedis = Environment.bool("VIGIL_ALLOW_EVICTING_REDIS", false)

    @Option(name: .customLong("kafka-property"), help: "Extra librdkafka property KEY=VALUE for both clients, or consumer.KEY=VALUE / producer.KEY=VALUE for one; repeatable; overrides --kafka-config and VIGIL_KAFKA_*. Visible in ps: give secrets (sasl.password, ...) in a file or VIGIL_KAFKA_<NAME>_FILE instead (docs/kafka-settings.md).")
    var kafkaProperties: [String] = []

    @Option(name: .customLong("kafka-config"), help: "librdkafka properties file: KEY=VALUE lines, # comments, consumer./producer. key prefixes for one client; repeatable, later files win. Environment variables VIGIL_KAFKA_<NAME>, VIGIL_KAFKA_CONSUMER_<NAME>, VIGIL_KAFKA_PRODUCER_<NAME> (and <NAME>_FILE, a file holding the value) override it (env VIGIL_KAFKA_CONFIG; docs/kafka-settings.md).")
    var kafkaConfig: [String] = Environment.optionalString(KafkaSettings.configVariable).map { [$0] } ?? []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env VIGIL_LOG_LEVEL).")
    var logLevel = Environment.string("VIGIL_LOG_LEVEL", "info")

    @Option(help: "Log format: text (one readable line each) or json (one JSON object per line, for log collectors); librdkafka's own lines come through the same log (env VIGIL_LOG_FORMAT).")
    var logFormat = Environment.string("VIGIL_LOG_FORMAT", "text")

    @Option(parsing: .unconditional, help: "How often librdkafka refreshes its statistics for /metrics (broker round trips and states, lag, transaction state), in ms; 0 turns them off (env VIGIL_KAFKA_STATISTICS_INTERVAL_MS).")
    var kafkaStatisticsIntervalMs = Environment.int("VIGIL_KAFKA_STATISTICS_INTERVAL_MS", 15_000)

    /// The validated configuration, or a `ValidationError` listing every problem.
    func config() throws -> VigilConfig {
        var c = VigilConfig()
        // Environment variables that are set but unusable (read while ArgumentParser built this value).
        var problems: [String] = Environment.problems
        c.brokers = brokers
        let redisNodes = redis.split(separator: ",").map { RedisAddressParsing.parse(String($0)) }
        if let first = redisNodes.first, let node = first, redisCluster || redisNodes.count == 1,
            redisNodes.allSatisfy({ $0 != nil })
        {
            c.redisHost = node.host
            c.redisPort = node.port
            c.redisCluster = redisCluster
            c.redisOtherSeeds = redisNodes.dropFirst().compactMap { $0 }
        } else {
            problems.append("--redis must be HOST:PORT (a list HOST:PORT,HOST:PORT only with --redis-cluster), got '\(redis)'")
        }
        (c.redisCredentials, c.redisTLS) = redisSecurity.settings(problems: &problems)
        c.redisPrefix = redisPrefix
        c.group = group
        c.modelPath = model
        c.shadowModelPath = shadowModel ?? Environment.optionalString("VIGIL_SHADOW_MODEL")
        if let source = ModelSource(rawValue: modelSource) { c.modelSource = source } else {
            problems.append("--model-source must be file or redis, got '\(modelSource)'")
        }
        if let m = DeliveryMode(rawValue: mode) { c.mode = m } else {
            problems.append("--mode must be exactly-once or at-least-once, got '\(mode)'")
        }
        c.transactionalId = transactionalId
        c.topics.transactions = topicTransactions
        c.topics.decisions = topicDecisions
        c.topics.alerts = topicAlerts
        c.topics.features = topicFeatures
        c.topics.late = topicLate
        c.topics.dlq = topicDlq
        c.topics.shadow = topicShadow
        if let partitioner = InputPartitioner(rawValue: inputPartitioner) { c.inputPartitioner = partitioner } else {
            problems.append("--input-partitioner must be murmur2, crc32, auto or none, got '\(inputPartitioner)'")
        }
        if let policy = FirstStart(rawValue: firstStart) { c.firstStart = policy } else {
            problems.append("--first-start must be warm, latest or earliest, got '\(firstStart)'")
        }
        c.firstStartLookbackMs = Int64(firstStartLookbackMs)
        var mccs = Set<UInt16>()
        for item in riskyMccs.split(separator: ",") {
            let text = item.trimmingCharacters(in: .whitespaces)
            if text.count == 4, let code = UInt16(text) { mccs.insert(code) } else {
                problems.append("--risky-mccs: '\(text)' is not a 4-digit MCC")
            }
        }
        c.features = FeatureConfig(
            outOfOrdernessMs: Int64(outOfOrdernessMs), latenessMs: Int64(latenessMs), highRiskMccs: mccs,
            maxFutureMs: Int64(maxFutureMs))
        if let catalog = FeatureCatalog(rawValue: featureCatalog) { c.featureCatalog = catalog } else {
            problems.append("--feature-catalog must be 1 or 2, got \(featureCatalog)")
        }
        if httpPort < -1 { problems.append("--http-port must be -1 (off), 0 (any free port) or 1-65535, got \(httpPort)") }
        c.httpPort = httpPort < 0 ? nil : httpPort
        c.httpHost = httpHost
        c.readyMaxLag = Int64(readyMaxLag)
        c.batchSize = batchSize
        c.batchWaitMs = batchWaitMs
        c.cardCacheBytes = cardCacheMb << 20
        c.overlapBatches = !serialBatches
        c.sessionTimeoutMs = sessionTimeoutMs
        c.shutdownTimeoutMs = shutdownTimeoutMs
        c.plainCommitAfterTransaction = !transactionalOffsetsOnly
        c.transactionIntervalMs = transactionIntervalMs
        c.transactionMaxBatches = transactionMaxBatches
        c.startupTimeoutMs = startupTimeoutMs
        c.stallTimeoutMs = stallTimeoutMs
        c.kafkaStatisticsIntervalMs = kafkaStatisticsIntervalMs
        c.allowEvictingRedis = allowEvictingRedis
        c.kafka = KafkaSettings(files: kafkaConfig, environment: Environment.variables, commandLine: kafkaProperties)
        if Logger.Level(rawValue: logLevel) == nil { problems.append("--log-level '\(logLevel)' is not a level") }
        if LogFormat(rawValue: logFormat) == nil { problems.append("--log-format '\(logFormat)' is not text or json") }
        do {
            try c.validate()
        } catch {
            problems += error.problems
        }
        if !problems.isEmpty {
            throw ValidationError("invalid configuration:\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }
        return c
    }

    func makeLogger(_ label: String) -> Logger {
        LogSetup.bootstrap(label, level: Logger.Level(rawValue: logLevel) ?? .info, format: LogFormat(rawValue: logFormat) ?? .text)
    }
}

import Foundation
