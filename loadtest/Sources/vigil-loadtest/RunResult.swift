import Histogram

/// Percentiles of one latency histogram, in milliseconds.
struct LatencySummary: Sendable, Codable {
    var count: UInt64
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var mean: Double

    init?(_ h: Histogram<UInt64>) {
        guard h.totalCount > 0 else { return nil }
        count = h.totalCount
        p50 = Double(h.valueAtPercentile(50)) / 1000
        p90 = Double(h.valueAtPercentile(90)) / 1000
        p99 = Double(h.valueAtPercentile(99)) / 1000
        p999 = Double(h.valueAtPercentile(99.9)) / 1000
        max = Double(h.max) / 1000
        mean = h.mean / 1000
    }
}

/// Everything a run measured; the report is written from it, and it is saved as summary.json.
struct RunResult: Sendable, Codable {
    var settings: LoadTestSettings
    var machine: MachineInfo
    var startedAt: String
    var vigilBinary: String
    var vigilArguments: [String]
    var brokers: String
    var kafkaKind: String
    var redisAddress: String
    var redisKind: String
    var partitions: Int32
    var completed = false
    /// 1-minute load average at the end of the run (the tool, Vigil and Redis add up to about their CPU shares).
    var loadAverageAtEnd: Double?
    var interrupted = false
    var warnings: [String] = []
    /// The merchant-risk snapshot published before the run (`--merchant-snapshot`), if any.
    var merchantSnapshot: String?

    // Counts of the measured phase.
    var published = 0
    var publishFailures = 0
    var malformedPublished = 0
    var generatorLatePublished = 0
    var fraudPublished = 0
    var outcomes = 0
    var decisions = 0
    var late = 0
    var dlq = 0
    var duplicates = 0
    var foreign = 0
    var missingLabelled = 0
    var missingMalformed = 0

    /// Seconds from launching vigil serve to the warm-up decided (open loop) or the first decision (--max).
    var startupSeconds: Double?
    var warmupTransactions: Int?
    /// Alerts seen, and review-or-block decisions they should match one to one.
    var alerts = 0
    var reviewOrBlock = 0
    /// Open loop: seconds spent publishing; the publisher's worst lateness against its schedule.
    var publishSeconds: Double?
    var publisherMaxBehindMs: Double?
    /// Seconds after publishing ended until the last outcome arrived (or the drain gave up).
    var drainSeconds: Double?
    /// --max: how fast the backlog went into Kafka.
    var backlogPublishPerSecond: Double?
    var backlogBytesPerMessage: Double?

    var latencyFromScheduled: LatencySummary?
    var latencyFromSent: LatencySummary?
    /// From the transaction being readable on the input topic to its decision being readable (open loop).
    var latencyFromInputReadable: LatencySummary?

    /// `LoadProfile.attack`: the attack card's id and payments (published, decided) and their latencies, which the
    /// three above leave out (with an attack, those are the normal traffic's).
    var attackCardId: String?
    var attackPublished = 0
    var attackDecisions = 0
    var attackLatencyFromScheduled: LatencySummary?
    var attackLatencyFromSent: LatencySummary?
    var attackLatencyFromInputReadable: LatencySummary?

    /// Outcomes received after the first batch, divided by the time from the first to the last batch.
    var outcomesPerSecond: Double?
    var decisionsPerSecond: Double?
    var firstToLastSeconds: Double?
    /// Per-second outcome rates over the full seconds of the active window.
    var medianSecondRate: Double?
    var peakSecondRate: Double?
    var minSecondRate: Double?
    var ceiling: ConsumeCeiling?

    var vigilCPUMeanPercent: Double?
    var vigilCPUMaxPercent: Double?
    var vigilRSSMaxBytes: Int64?
    var vigilRSSEndBytes: Int64?
    var toolCPUMeanPercent: Double?
    var vigilStop: VigilProcess.StopResult?

    var redisBaselineBytes: Int64?
    var redisEndBytes: Int64?
    var redisKeys: RedisProbe.KeyFigures?
    var redisBytesPerCard: Double?
    var redisKeysDeleted: Int?

    var quality: DetectionQuality?
    /// Vigil's batch time by stage over the measurement, from its /metrics (nil for binaries without it).
    var stageBreakdown: StageBreakdown?
    var readerErrors: [String] = []
    var samples: [Sample] = []

    var ceilingRatio: Double? {
        guard let outcomesPerSecond, let c = ceiling?.messagesPerSecond, c > 0 else { return nil }
        return outcomesPerSecond / c
    }
}
