import Foundation
import VigilTraffic

/// Everything one run needs, fixed at start: the parsed flags plus the run's random group and prefix.
struct LoadTestSettings: Sendable, Codable {
    enum Mode: String, Sendable, Codable { case rate, max }

    var mode: Mode
    var rate: Int
    var seconds: Int
    var rampSeconds: Int
    var count: Int
    var brokers: String?
    var redis: String?
    /// A throwaway Redis Cluster instead of a single redis-server.
    var redisCluster: Bool
    var redisClusterReplicas: Int
    var partitions: Int32
    var vigil: String?
    var model: String
    var vigilMode: String
    var batchSize: Int?
    var batchWaitMs: Int?
    var vigilLogLevel: String
    var vigilArgs: [String]
    var cards: Int
    var seed: UInt64
    var timeScale: Double
    var fraudCards: Double
    var compromisedMerchants: Double
    var merchantSnapshot: Bool
    var outOfOrder: Double
    var late: Double
    var malformed: Double
    var warmup: Int
    var compression: String
    var lingerMs: Int
    var startupTimeout: Int
    var drainTimeout: Int
    var reportDir: String?
    var keepRedisKeys: Bool
    var keepMockNagle: Bool
    /// `loadtest-<random>`: Vigil's consumer group and Redis key prefix for this run.
    var runId: String
    var commandLine: [String]

    init(_ c: LoadTestCommand) {
        mode = c.max ? .max : .rate
        rate = c.rate
        seconds = c.seconds
        rampSeconds = c.rampSeconds
        count = c.count
        brokers = c.brokers
        redis = c.redis
        redisCluster = c.redisCluster
        redisClusterReplicas = c.redisClusterReplicas
        partitions = c.partitions
        vigil = c.vigil
        model = c.model
        vigilMode = c.vigilMode
        batchSize = c.batchSize
        batchWaitMs = c.batchWaitMs
        vigilLogLevel = c.vigilLogLevel
        vigilArgs = c.vigilArg
        cards = c.cards
        seed = c.seed
        timeScale = c.timeScale
        fraudCards = c.fraudCards
        compromisedMerchants = c.compromisedMerchants
        merchantSnapshot = c.merchantSnapshot
        outOfOrder = c.outOfOrder
        late = c.late
        malformed = c.malformed
        warmup = c.warmup
        compression = c.compression
        lingerMs = c.lingerMs
        startupTimeout = c.startupTimeout
        drainTimeout = c.drainTimeout
        reportDir = c.reportDir
        keepRedisKeys = c.keepRedisKeys
        keepMockNagle = c.keepMockNagle
        runId = "loadtest-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        commandLine = CommandLine.arguments
    }

    var profile: TrafficProfile {
        var p = TrafficProfile()
        p.cards = cards
        p.seed = seed
        p.fraudCardFraction = fraudCards
        if compromisedMerchants > 0 { p.compromisedMerchants = MerchantCompromise(merchantFraction: compromisedMerchants) }
        p.outOfOrderFraction = outOfOrder
        p.lateFraction = late
        p.malformedFraction = malformed
        return p
    }

    var schedule: OpenLoopSchedule {
        OpenLoopSchedule(rate: Double(rate), rampSeconds: Double(rampSeconds), seconds: Double(seconds))
    }

    /// Vigil's batch settings as it will use them (its defaults when not passed through).
    var effectiveBatchSize: Int { batchSize ?? 2000 }
    var effectiveBatchWaitMs: Int { batchWaitMs ?? 20 }
}
