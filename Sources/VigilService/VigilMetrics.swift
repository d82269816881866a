import Foundation
import Kafka
import Prometheus
import Synchronization
import VigilCore

/// Vigil's metrics, in one swift-prometheus registry, served on `/metrics` (docs/operations.md lists them all).
///
/// Two kinds of series:
/// - recorded where they happen (histograms: end-to-end latency per transaction, time per stage and Redis round
///   trip per batch, records per batch), straight into swift-prometheus histograms;
/// - mirrored at each scrape from what the pipeline keeps for itself anyway (`PipelineStats`: counters the demo,
///   the load test and the probes read too), from the probes, from `/proc` and from librdkafka's statistics. A mirrored
///   series that is no longer reported (a revoked partition, a replaced model version) leaves the registry.
///
/// Labels are bounded: verdicts, stages, partitions, causes, DLQ reason codes (the contract's field names), the one
/// running model version; never a card or a transaction. `vigil serve` also bootstraps swift-metrics with this
/// registry (`PrometheusMetricsFactory`), so whatever records through swift-metrics in the process is served beside
/// Vigil's own (nothing does today). Such a recorder must not reuse one of these names: swift-prometheus stops the
/// process on a family registered twice with different help, type or label shape.
public final class VigilMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// Buckets of the end-to-end latency, in seconds: 1 ms to 10 s.
    static let latencyBuckets: [Double] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10]
    /// Buckets of per-batch durations (stages, Redis round trips), in seconds: 100 µs to 10 s.
    static let durationBuckets: [Double] = DurationHistogram.bounds

    let endToEnd: Prometheus.DurationHistogram
    let stages: [PipelineStage: Prometheus.DurationHistogram]
    let redisRoundTrips: [RedisOperation: Prometheus.DurationHistogram]
    let batchRecords: ValueHistogram
    private let mirror = Mutex(MirroredSeries())

    /// What is timed as a Redis round trip: the probe's write once a second, a batch's card-state load and its store.
    public enum RedisOperation: String, Sendable, CaseIterable {
        case probe, load, store
    }

    public init() {
        let registry = self.registry
        func durations(_ seconds: [Double]) -> [Duration] { seconds.map { .nanoseconds(Int64(($0 * 1e9).rounded())) } }
        endToEnd = registry.makeDurationHistogram(
            descriptor: Self.descriptor(
                "vigil_end_to_end_latency_seconds",
                "From the transaction's Kafka timestamp to its outputs being acknowledged or committed."),
            buckets: durations(Self.latencyBuckets))
        func histograms<Key: RawRepresentable<String>>(_ name: String, _ help: String, _ label: String, _ keys: [Key])
            -> [Key: Prometheus.DurationHistogram]
        {
            let descriptor = Self.descriptor(name, help)
            return Dictionary(uniqueKeysWithValues: keys.map { key in
                (key, registry.makeDurationHistogram(
                    descriptor: descriptor, labels: [(label, key.rawValue)], buckets: durations(Self.durationBuckets)))
            })
        }
        stages = histograms(
            "vigil_stage_seconds",
            "Time per batch in each stage; load and store are the Redis round trips, produce is the wait for Kafka "
                + "(acknowledgements, or the transaction commit in exactly-once mode).", "stage", PipelineStage.allCases)
        redisRoundTrips = histograms(
            "vigil_redis_round_trip_seconds",
            "Redis round trips: the probe's write once a second (probe), the load of a batch's card states (load) and its "
                + "store (store, one script per partition group).", "operation", RedisOperation.allCases)
        batchRecords = registry.makeValueHistogram(
            descriptor: Self.descriptor("vigil_batch_records", "Records per batch."),
            buckets: (0..<18).map { Double((1 << $0) - 1) })
    }

    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    // MARK: recorded where they happen

    func recordLatency(ms: Int64) { endToEnd.recordNanoseconds(max(0, ms) * 1_000_000) }

    func recordStage(_ stage: PipelineStage, nanos: UInt64) {
        let n = Int64(clamping: nanos)
        stages[stage]?.recordNanoseconds(n)
        switch stage {
        case .load: redisRoundTrips[.load]?.recordNanoseconds(n)
        case .store: redisRoundTrips[.store]?.recordNanoseconds(n)
        default: break
        }
    }

    func recordRedisProbe(nanos: UInt64) { redisRoundTrips[.probe]?.recordNanoseconds(Int64(clamping: nanos)) }

    func recordBatch(records: Int) { batchRecords.record(Double(records)) }

    // MARK: mirrored at each scrape

    /// Everything the scrape reports besides the histograms, gathered by the caller.
    public struct Inputs: Sendable {
        public var stats: PipelineStats.Snapshot
        public var lag: [TopicPartition: Int64] = [:]
        public var probes: ProbeReport?
        public var process: ProcessStats?
        public var kafka: [KafkaStatistics] = []
        public var kafkaErrors: [String: Int] = [:]
        public var nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000)

        public init(stats: PipelineStats.Snapshot) { self.stats = stats }
    }

    /// The exposition text (Prometheus text format 0.0.4) with every series brought up to date.
    public func render(_ inputs: Inputs) -> String {
        mirror.withLock { series in
            var round = MirrorRound(registry: registry, series: series)
            Self.report(inputs, into: &round)
            series = round.finish()
            return registry.emitToString()
        }
    }

    /// The mirrored series, family by family.
    static func report(_ i: Inputs, into r: inout MirrorRound) {
        let s = i.stats
        r.counter("vigil_transactions_total", "Transactions decided, by verdict.",
                  Verdict.allCases.map { ([("verdict", $0.name)], Double(s.verdicts[$0] ?? 0)) })
        r.counter("vigil_late_total", "Transactions beyond the allowed lateness, sent to the late topic.", s.late)
        // The reasons without a field from the start (at 0, so rates and alerts see them), the others once seen.
        var rejected = Dictionary(uniqueKeysWithValues: RejectReason.withoutField.map { ($0.code, 0) })
        rejected.merge(s.rejectedByReason) { $1 }
        r.counter("vigil_dlq_total", "Messages Vigil could not accept, sent to the dead-letter topic, by reason (the vigil.error code).",
                  rejected.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        r.counter("vigil_batches_total", "Batches stored.", s.batches)
        r.counter("vigil_batches_retried_total", "Recoveries from a failed batch (each retries every unfinished batch).", s.retriedBatches)
        r.counter("vigil_batches_fenced_total", "Batch writes refused because the partition was claimed elsewhere or Redis lost writes.", s.fencedBatches)
        r.counter("vigil_batches_partially_stored_total", "Redis Cluster: batches stored for some of their partitions only (a node failed during the write); the rest is retried.", s.partialStores)
        r.counter("vigil_state_repairs_total", "Partitions whose state was rebuilt from the log.", s.repairs)
        r.counter("vigil_replayed_records_total", "Records replayed into the state without emitting outputs again.", s.replayedWithoutOutputs)
        r.counter("vigil_skipped_records_total", "Redelivered records skipped because Redis had already applied them.", s.skippedAlreadyApplied)
        r.counter("vigil_cards_from_unfinished_batches_total", "Card states taken from an earlier batch not yet stored, instead of from Redis.", s.cardsFromUnfinishedBatches)
        r.counter("vigil_cards_from_cache_total", "Card states taken from the owned-card cache instead of from Redis.", s.cardsFromCache)
        r.counter("vigil_cards_from_redis_total", "Card states read from Redis (including cards Redis did not hold).", s.cardsFromRedis)
        r.counter("vigil_card_logs_read_total", "Event logs of busy cards read from Redis (cards not in memory).", s.cardLogsRead)
        r.gauge("vigil_card_cache_bytes", "Estimated memory of the owned-card cache, in bytes.", Double(s.cardCacheBytes))
        r.gauge("vigil_card_cache_cards", "Cards in the owned-card cache.", Double(s.cardCacheEntries))
        r.counter("vigil_producer_rebuilds_total", "Producers replaced after a fatal Kafka error.", s.producerRebuilds)
        r.counter("vigil_degraded_copies_total", "Copies of input messages (DLQ, late) sent without their body because Kafka refused them as they were.", s.degradedCopies)
        r.counter("vigil_outputs_produced_again_total", "Outputs produced again because their delivery failed (at-least-once).", s.outputsProducedAgain)
        r.counter("vigil_kafka_transactions_committed_total", "Kafka transactions committed (exactly-once).", s.committedTransactions)
        r.counter("vigil_kafka_transaction_batches_total", "Batches carried by the committed Kafka transactions (several may share one).", s.batchesInTransactions)
        r.counter("vigil_kafka_transactions_aborted_total", "Kafka transactions aborted (exactly-once); each is retried.", s.abortedTransactions)
        r.counter("vigil_misrouted_records_total",
                  "Input records on another partition than the input partitioner gives their key (a card's history split across partitions).",
                  s.misroutedRecords)

        r.gauge("vigil_consumer_lag", "Records in the input partition not yet processed.",
                i.lag.sorted { $0.key < $1.key }.map { (Self.partitionLabels($0.key), Double($0.value)) })
        r.gauge("vigil_event_time_lag_seconds",
                "Now minus the newest event time decided in the partition (since this instance owns it).",
                s.newestEventTimeMs.sorted { $0.key < $1.key }.map {
                    (Self.partitionLabels($0.key), Double(i.nowMs - $0.value) / 1000)
                })
        r.gauge("vigil_assigned_partitions", "Input partitions this instance owns.", Double(s.assignedPartitions))
        r.gauge("vigil_paused",
                "1 while consumption is paused because Redis cannot take the batches (unreachable, not answering, out of memory, "
                    + "authentication failed, loading, read-only); the cause is in vigil_not_ready and /readyz.",
                s.pausedReason == nil ? 0 : 1)
        r.gauge("vigil_paused_partitions", "Partitions paused while Redis cannot take the batches.", Double(s.pausedPartitions))
        if let probes = i.probes {
            r.gauge("vigil_ready", "1 while /readyz answers 200.", probes.notReady.isEmpty ? 1 : 0)
            r.gauge("vigil_live", "1 while /healthz answers 200 (the pipeline shows progress within the stall bound).", probes.stall == nil ? 1 : 0)
            let active = Set(probes.notReady.map(\.label))
            r.gauge("vigil_not_ready", "1 for each cause that keeps /readyz from being ready, 0 for the others.",
                    ProbeReport.labels.map { ([("cause", $0)], active.contains($0) ? 1 : 0) })
            r.gauge("vigil_progress_age_seconds",
                    "Seconds since the pipeline last showed progress (a batch stored, an idle poll, a bounded wait ending).",
                    probes.secondsSinceProgress)
        }
        r.info("vigil_model_info", "The model version in force.", [("version", s.modelVersion)])
        if let shadow = s.shadowModelVersion {
            r.info("vigil_shadow_model_info", "The candidate model scored in shadow (absent when there is none).", [("version", shadow)])
            var pairs: [([(String, String)], Double)] = []
            for active in Verdict.allCases {
                for candidate in Verdict.allCases {
                    pairs.append(([("shadow_version", shadow), ("active", active.name), ("shadow", candidate.name)],
                                  Double(s.shadowVerdicts[active: active, shadow: candidate])))
                }
            }
            r.counter("vigil_shadow_verdicts_total",
                      "Decisions scored by the shadow model, by the active and the shadow verdict (equal verdicts: agreement). "
                          + "Counts the current shadow version since it was set.", pairs)
        }
        r.info("vigil_input_partitioner_info",
               "The partitioner input records are checked against (named by --input-partitioner or learned); 'unknown' while none.",
               [("partitioner", s.inputPartitioner ?? "unknown")])
        r.info("vigil_feature_catalog_info", "The feature catalog served (docs/contract.md).", [("catalog", String(s.featureCatalog.rawValue))])
        r.counter("vigil_models_refused_total",
                  "Models refused on reload (invalid, or naming a feature the running catalog does not serve); the running model stayed.",
                  s.modelsRefused)
        if s.featureCatalog.needsMerchantRisk {
            r.counter("vigil_merchant_risk_errors_total",
                      "Merchant-risk problems: the served version unreadable, or a batch lookup that found no usable snapshot or unreadable values (scored with the no-snapshot defaults).",
                      s.merchantRiskErrors)
            r.counter("vigil_merchant_risk_lookups_total", "Batches that looked their merchants up in a merchant-risk snapshot.", s.merchantRiskLookups)
            r.info("vigil_merchant_risk_info", "The merchant-risk snapshot served ('none' while there is none).",
                   [("version", s.merchantRiskVersion ?? MerchantRiskVersion.none)])
            if let cut = s.merchantRiskCutMs {
                r.gauge("vigil_merchant_risk_snapshot_age_seconds",
                        "Age of the served merchant-risk snapshot: now minus the cut time its version names.", Double(i.nowMs - cut) / 1000)
            }
        }
        r.info("vigil_mode_info", "Delivery mode.", [("mode", s.mode.rawValue)])
        r.info("vigil_build_info", "The build running: Vigil's version and the C libraries'.",
               [("version", BuildInfo.version), ("librdkafka", BuildInfo.librdkafka), ("hiredis", BuildInfo.hiredis)])

        if let p = i.process {
            r.counter("process_cpu_seconds_total", "User and system CPU time spent, in seconds.", [([], p.cpuSeconds)])
            r.gauge("process_resident_memory_bytes", "Resident memory size, in bytes.", Double(p.residentBytes))
            r.gauge("process_virtual_memory_bytes", "Virtual memory size, in bytes.", Double(p.virtualBytes))
            r.gauge("process_open_fds", "Open file descriptors.", Double(p.openFiles))
            r.gauge("process_max_fds", "The limit of open file descriptors.", Double(p.maxFiles))
            r.gauge("process_start_time_seconds", "Start time of the process since the Unix epoch, in seconds.", p.startTimeSeconds)
        }

        KafkaStatisticsSeries.report(i.kafka, errors: i.kafkaErrors, into: &r)
    }

    static func partitionLabels(_ tp: TopicPartition) -> [(String, String)] {
        [("topic", tp.topic), ("partition", String(tp.partition))]
    }
}

/// The mirrored series registered now, by family and labels, so that those not reported again are unregistered.
struct MirroredSeries: Sendable {
    struct Key: Hashable, Sendable {
        var name: String
        var labels: [String]
    }

    var counters: [Key: Counter] = [:]
    var gauges: [Key: Gauge] = [:]
}

/// One scrape's pass over the mirrored families.
struct MirrorRound {
    let registry: PrometheusCollectorRegistry
    var previous: MirroredSeries
    var current = MirroredSeries()

    init(registry: PrometheusCollectorRegistry, series: MirroredSeries) {
        self.registry = registry
        self.previous = series
    }

    private static func key(_ name: String, _ labels: [(String, String)]) -> MirroredSeries.Key {
        MirroredSeries.Key(name: name, labels: labels.flatMap { [$0.0, $0.1] })
    }

    mutating func counter(_ name: String, _ help: String, _ value: Int) { counter(name, help, [([], Double(value))]) }

    /// A counter family: each series set to its value (Vigil's counters only grow; a series that restarts, such as the
    /// shadow verdicts of a new shadow version, is a new series).
    mutating func counter(_ name: String, _ help: String, _ series: [([(String, String)], Double)]) {
        let descriptor = VigilMetrics.descriptor(name, help)
        for (labels, value) in series {
            let key = Self.key(name, labels)
            let counter = previous.counters.removeValue(forKey: key)
                ?? (labels.isEmpty ? registry.makeCounter(descriptor: descriptor) : registry.makeCounter(descriptor: descriptor, labels: labels))
            counter.reset()
            if value == value.rounded(), abs(value) < 1e15 { counter.increment(by: Int64(value)) } else { counter.increment(by: value) }
            current.counters[key] = counter
        }
    }

    mutating func gauge(_ name: String, _ help: String, _ value: Double) { gauge(name, help, [([], value)]) }

    mutating func gauge(_ name: String, _ help: String, _ series: [([(String, String)], Double)]) {
        let descriptor = VigilMetrics.descriptor(name, help)
        for (labels, value) in series {
            let key = Self.key(name, labels)
            let gauge = previous.gauges.removeValue(forKey: key)
                ?? (labels.isEmpty ? registry.makeGauge(descriptor: descriptor) : registry.makeGauge(descriptor: descriptor, labels: labels))
            gauge.set(to: value)
            current.gauges[key] = gauge
        }
    }

    /// An info metric: one series, value 1, whose labels say what is in force.
    mutating func info(_ name: String, _ help: String, _ labels: [(String, String)]) { gauge(name, help, [(labels, 1)]) }

    /// Unregisters what this round did not report; returns what it did.
    func finish() -> MirroredSeries {
        for counter in previous.counters.values { registry.unregisterCounter(counter) }
        for gauge in previous.gauges.values { registry.unregisterGauge(gauge) }
        return current
    }
}
