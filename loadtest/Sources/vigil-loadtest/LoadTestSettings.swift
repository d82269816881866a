import Foundation
import VigilTraffic

/// Everything one run needs, fixed at start: the parsed flags plus the run's random group and prefix.
struct LoadTestSettings: Sendable, Codable {
    enum Mode: String, Sendable, Codable { case rate, max }

    var mode: Mode
    /// The traffic (`--profile`; one of `--profiles` in a comparison).
    var loadProfile: LoadProfile
    /// Open loop: the normal traffic's rate (the attack's comes on top); --max: the nominal rate spacing event times.
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
    /// `--profiles`: the open-loop runs' partitions (`partitions` is the --max runs').
    var openLoopPartitions: Int32
    var vigil: String?
    var model: String
    var vigilMode: String
    var batchSize: Int?
    var batchWaitMs: Int?
    var vigilLogLevel: String
    var vigilArgs: [String]
    /// The normal population (`--cards`); the hot profile's is `hotCards`.
    var cards: Int
    var hotCards: Int
    /// The attack card's payments per second (`LoadProfile.attack` only).
    var attackRate: Int
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
        loadProfile = c.profile
        // A comparison (--profiles) has defaults of its own: issue 13's figures (see LoadTestCommand).
        let comparing = c.profiles != nil
        rate = c.rate ?? (comparing ? 10_000 : 5000)
        seconds = c.seconds
        rampSeconds = c.rampSeconds
        count = c.count ?? (comparing ? 200_000 : 500_000)
        brokers = c.brokers
        redis = c.redis
        redisCluster = c.redisCluster
        redisClusterReplicas = c.redisClusterReplicas
        partitions = c.partitions ?? (comparing ? 20 : 4)
        openLoopPartitions = c.openLoopPartitions
        vigil = c.vigil
        model = c.model
        vigilMode = c.vigilMode
        batchSize = c.batchSize
        batchWaitMs = c.batchWaitMs
        vigilLogLevel = c.vigilLogLevel
        vigilArgs = c.vigilArg
        cards = c.cards
        hotCards = c.hotCards
        attackRate = c.attackRate
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
        runId = Self.newRunId()
        commandLine = CommandLine.arguments
    }

    static func newRunId() -> String {
        "loadtest-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }

    /// These settings for one profile of a comparison: its own mode, report directory, group and Redis prefix.
    func forProfile(_ profile: LoadProfile, mode: Mode, reportDir: String) -> LoadTestSettings {
        var s = self
        s.loadProfile = profile
        s.mode = mode
        if mode == .rate { s.partitions = openLoopPartitions }
        s.reportDir = reportDir
        s.runId = Self.newRunId()
        return s
    }

    /// The generated card population of this run: `hotCards` for the hot profile, else `cards`.
    var populationCards: Int { loadProfile == .hot ? hotCards : cards }

    /// The normal traffic and, for the attack profile, the attack's share of every second.
    var mix: TrafficMix {
        TrafficMix(normalRate: rate, attackRate: loadProfile == .attack ? attackRate : 0)
    }

    /// The attack's seed and share, for the attack profile.
    var attack: (seed: UInt64, mix: TrafficMix)? {
        loadProfile == .attack ? (seed, mix) : nil
    }

    var profile: TrafficProfile {
        var p = TrafficProfile()
        p.cards = populationCards
        p.seed = seed
        p.fraudCardFraction = fraudCards
        if compromisedMerchants > 0 { p.compromisedMerchants = MerchantCompromise(merchantFraction: compromisedMerchants) }
        p.outOfOrderFraction = outOfOrder
        p.lateFraction = late
        p.malformedFraction = malformed
        return p
    }

    var schedule: OpenLoopSchedule {
        OpenLoopSchedule(rate: Double(mix.totalRate), rampSeconds: Double(rampSeconds), seconds: Double(seconds))
    }

    /// Vigil's batch settings as it will use them (its defaults when not passed through).
    var effectiveBatchSize: Int { batchSize ?? 2000 }
    var effectiveBatchWaitMs: Int { batchWaitMs ?? 20 }
}
