import Kafka
import Synchronization
import VigilCore

/// Counters the pipeline keeps for the demo, logs and metrics. Bounded: no per-card or per-transaction keys.
public final class PipelineStats: Sendable {
    public struct Snapshot: Sendable {
        public var decided = 0
        public var verdicts: [Verdict: Int] = [:]
        public var late = 0
        public var rejected = 0
        /// Rejected records by reason (the `vigil.error` code: bounded by the contract's fields).
        public var rejectedByReason: [String: Int] = [:]
        /// The newest event time decided per input partition, for the event-time lag.
        public var newestEventTimeMs: [TopicPartition: Int64] = [:]
        public var skippedAlreadyApplied = 0
        public var batches = 0
        public var retriedBatches = 0
        public var fencedBatches = 0
        /// Redis Cluster: batches stored for some of their partitions only (a node failed during the write).
        public var partialStores = 0
        /// Publish (message timestamp) to outputs acknowledged, in milliseconds.
        public var latency = LatencyHistogram()
        public var modelVersion = ""
        /// The candidate scored in shadow, if any, and its verdicts against the active ones (since it was set).
        public var shadowModelVersion: String?
        public var shadowVerdicts = VerdictPairs()
        public var assignedPartitions = 0
        public var lastError: String?
        public var mode = DeliveryMode.exactlyOnce
        /// Card states a batch took from an earlier batch still in the encode, emit or store stages, instead of
        /// from Redis (batches overlapping; `Pipeline+Overlap.swift`).
        public var cardsFromUnfinishedBatches = 0
        /// Card states a batch took from the owned-card cache (`OwnedCardCache`), and those it read from Redis.
        public var cardsFromCache = 0
        public var cardsFromRedis = 0
        /// Busy cards whose event logs were read from Redis (a second read after the batch's load).
        public var cardLogsRead = 0
        /// The owned-card cache's estimated bytes and cards, as of the last batch.
        public var cardCacheBytes = 0
        public var cardCacheEntries = 0
        /// Records replayed into the state without emitting outputs again (state repair, retried batches).
        public var replayedWithoutOutputs = 0
        /// Partitions whose state was rebuilt from the log.
        public var repairs = 0
        /// Records on another partition than the input partitioner gives their key (`docs/partitioning.md`).
        public var misroutedRecords = 0
        /// The partitioner the input records are checked against (named, or learned with `auto`); nil if none.
        public var inputPartitioner: String?
        /// Why the pipeline stopped on its own, if it did (another deployment holds the Redis prefix).
        public var haltReason: String?
        public var producerRebuilds = 0
        /// Copies of input messages (DLQ, late) sent without their body because Kafka refused them as they were.
        public var degradedCopies = 0
        /// Outputs produced again because their delivery failed (at-least-once: only those, never the whole batch).
        public var outputsProducedAgain = 0
        /// Transactions aborted (exactly-once); their messages are invisible to `read_committed` readers.
        public var abortedTransactions = 0
        /// Transactions committed (exactly-once), and the batches they carried (several may share one:
        /// `TransactionCadence`).
        public var committedTransactions = 0
        public var batchesInTransactions = 0
        /// Why consumption is paused, if it is.
        public var pausedReason: String?
        /// What Redis said when consumption paused (or since): the cause with its bounded label and Redis's words.
        public var pausedCondition: RedisCondition?
        /// Partitions paused while Redis is unreachable (every assigned partition, claimed or not).
        public var pausedPartitions = 0
        /// The feature catalog served.
        public var featureCatalog = FeatureCatalog.default
        /// The merchant-risk snapshot served (nil: none) and the cut time its version names.
        public var merchantRiskVersion: String?
        public var merchantRiskCutMs: Int64?
        /// Problems reading merchant risk: the served version unreadable, or a batch's lookup that found no usable
        /// table or unreadable values (each scored with the no-snapshot defaults).
        public var merchantRiskErrors = 0
        /// Batches that looked their merchants up in a snapshot.
        public var merchantRiskLookups = 0
        /// Models refused on reload (the running model stayed).
        public var modelsRefused = 0
        /// Next offset to process per partition (for the lag metric).
        public var positions: [TopicPartition: Int64] = [:]
        public var batchSizes = SizeHistogram()
        /// Wall time spent in each stage of the hot path, summed over all batches.
        public var stageNanos: [PipelineStage: UInt64] = [:]
        /// Distribution of each stage's time per batch.
        public var stageTimes: [PipelineStage: DurationHistogram] = [:]

        public init() {}

        /// Every input record Vigil has finished with.
        public var processed: Int { decided + late + rejected }
    }

    let state = Mutex(Snapshot())
    /// The Prometheus registry `/metrics` serves, with the histograms recorded where they happen.
    public let metrics = VigilMetrics()

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }
}

/// The stages of one batch, in order: poll to encode on the pipeline thread, enqueue and produce in the emit stage,
/// store and commit in the store stage. `wait` is the pipeline thread waiting for earlier batches before handing over
/// the next (`Pipeline+Overlap.swift`).
public enum PipelineStage: String, Sendable, CaseIterable {
    case poll, decode, load, compute, encode, wait, enqueue, produce, store, commit
}

/// Latency in whole milliseconds: exact counts up to 10 s, one overflow bucket beyond.
public struct LatencyHistogram: Sendable {
    var buckets = [Int](repeating: 0, count: 10_002)
    public private(set) var count = 0

    public init() {}

    public private(set) var sumMs: Double = 0

    public mutating func record(ms: Int64) {
        let i = Int(max(0, min(ms, 10_001)))
        buckets[i] += 1
        count += 1
        sumMs += Double(max(0, ms))
    }

    /// Samples of exactly `ms` milliseconds (10001: over 10 s).
    public func count(atMs ms: Int) -> Int { ms >= 0 && ms < buckets.count ? buckets[ms] : 0 }

    /// The smallest latency (ms) at or below which `q` of the samples lie; nil if empty. 10001 means "over 10 s".
    public func percentile(_ q: Double) -> Int? {
        guard count > 0 else { return nil }
        let target = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for (ms, n) in buckets.enumerated() {
            seen += n
            if seen >= target { return ms }
        }
        return buckets.count - 1
    }

    /// Samples added since `earlier`.
    public func subtracting(_ earlier: LatencyHistogram) -> LatencyHistogram {
        var d = self
        for i in d.buckets.indices { d.buckets[i] -= earlier.buckets[i] }
        d.count -= earlier.count
        d.sumMs -= earlier.sumMs
        return d
    }
}

/// Durations in fixed buckets (seconds), for Prometheus histograms.
public struct DurationHistogram: Sendable {
    public static let bounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Cumulative counts per bound, then the total (+Inf).
    public private(set) var counts = [Int](repeating: 0, count: DurationHistogram.bounds.count + 1)
    public private(set) var sum = 0.0

    public init() {}

    public mutating func record(nanos: UInt64) {
        let seconds = Double(nanos) / 1e9
        sum += seconds
        for (i, bound) in Self.bounds.enumerated() where seconds <= bound { counts[i] += 1 }
        counts[Self.bounds.count] += 1
    }
}

/// Batch sizes in power-of-two buckets (1, 2-3, 4-7, ...).
public struct SizeHistogram: Sendable {
    public private(set) var buckets = [Int](repeating: 0, count: 18)
    public private(set) var count = 0
    public private(set) var sum = 0

    public mutating func record(_ size: Int) {
        let bucket = size <= 0 ? 0 : min(buckets.count - 1, Int.bitWidth - size.leadingZeroBitCount)
        buckets[bucket] += 1
        count += 1
        sum += size
    }
}
