import Kafka
import VigilCore

/// Renders the pipeline's statistics in the Prometheus text exposition format (version 0.0.4). Labels are bounded:
/// verdicts, stages, partitions, the one running model version (and shadow version); never a card or transaction id.
public enum MetricsText {
    /// `probes` adds what `/healthz` and `/readyz` say (`vigil_ready`, `vigil_live`, `vigil_not_ready{cause}`).
    public static func render(
        _ s: PipelineStats.Snapshot, lag: [TopicPartition: Int64],
        nowMs: Int64 = Int64(Date().timeIntervalSince1970 * 1000), probes: ProbeReport? = nil
    ) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ value: some CustomStringConvertible) {
            out += "\(name) \(value)\n"
        }
        func labeled(_ name: String, _ labels: String, _ value: some CustomStringConvertible) {
            out += "\(name){\(labels)} \(value)\n"
        }
        func counter(_ name: String, _ help: String, _ value: Int) {
            metric(name, "counter", help)
            sample(name, value)
        }

        metric("vigil_transactions_total", "counter", "Transactions decided, by verdict.")
        for verdict in Verdict.allCases { labeled("vigil_transactions_total", "verdict=\"\(verdict.name)\"", s.verdicts[verdict] ?? 0) }
        counter("vigil_late_total", "Transactions beyond the allowed lateness, sent to the late topic.", s.late)
        counter("vigil_dlq_total", "Messages Vigil could not accept, sent to the dead-letter topic.", s.rejected)
        counter("vigil_batches_total", "Batches stored.", s.batches)
        counter("vigil_batches_retried_total", "Recoveries from a failed batch (each retries every unfinished batch).", s.retriedBatches)
        counter("vigil_batches_fenced_total", "Batch writes refused because the partition was claimed elsewhere or Redis lost writes.", s.fencedBatches)
        counter("vigil_batches_partially_stored_total", "Redis Cluster: batches stored for some of their partitions only (a node failed during the write); the rest is retried.", s.partialStores)
        counter("vigil_state_repairs_total", "Partitions whose state was rebuilt from the log.", s.repairs)
        counter("vigil_replayed_records_total", "Records replayed into the state without emitting outputs again.", s.replayedWithoutOutputs)
        counter("vigil_skipped_records_total", "Redelivered records skipped because Redis had already applied them.", s.skippedAlreadyApplied)
        counter("vigil_cards_from_unfinished_batches_total", "Card states taken from an earlier batch not yet stored, instead of from Redis.", s.cardsFromUnfinishedBatches)
        counter("vigil_cards_from_cache_total", "Card states taken from the owned-card cache instead of from Redis.", s.cardsFromCache)
        counter("vigil_cards_from_redis_total", "Card states read from Redis (including cards Redis did not hold).", s.cardsFromRedis)
        counter("vigil_card_logs_read_total", "Event logs of busy cards read from Redis (cards not in memory).", s.cardLogsRead)
        metric("vigil_card_cache_bytes", "gauge", "Estimated memory of the owned-card cache, in bytes.")
        sample("vigil_card_cache_bytes", s.cardCacheBytes)
        metric("vigil_card_cache_cards", "gauge", "Cards in the owned-card cache.")
        sample("vigil_card_cache_cards", s.cardCacheEntries)
        counter("vigil_producer_rebuilds_total", "Producers replaced after a fatal Kafka error.", s.producerRebuilds)
        counter("vigil_kafka_transactions_committed_total", "Kafka transactions committed (exactly-once).", s.committedTransactions)
        counter("vigil_kafka_transaction_batches_total", "Batches carried by the committed Kafka transactions (several may share one).", s.batchesInTransactions)
        counter("vigil_kafka_transactions_aborted_total", "Kafka transactions aborted (exactly-once); each is retried.", s.abortedTransactions)
        counter("vigil_misrouted_records_total",
                "Input records on another partition than the input partitioner gives their key (a card's history split across partitions).",
                s.misroutedRecords)

        metric("vigil_end_to_end_latency_seconds", "histogram",
               "From the transaction's Kafka timestamp to its outputs being acknowledged or committed.")
        var cumulative = 0
        var ms = 0
        let boundsMs = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000]
        for bound in boundsMs {
            while ms <= bound { cumulative += s.latency.count(atMs: ms); ms += 1 }
            labeled("vigil_end_to_end_latency_seconds_bucket", "le=\"\(Double(bound) / 1000)\"", cumulative)
        }
        labeled("vigil_end_to_end_latency_seconds_bucket", "le=\"+Inf\"", s.latency.count)
        sample("vigil_end_to_end_latency_seconds_sum", s.latency.sumMs / 1000)
        sample("vigil_end_to_end_latency_seconds_count", s.latency.count)

        metric("vigil_stage_seconds", "histogram",
               "Time per batch in each stage; load and store are the Redis round trips, produce is the wait for Kafka "
                   + "(acknowledgements, or the transaction commit in exactly-once mode).")
        for stage in PipelineStage.allCases {
            let h = s.stageTimes[stage] ?? DurationHistogram()
            for (i, bound) in DurationHistogram.bounds.enumerated() {
                labeled("vigil_stage_seconds_bucket", "stage=\"\(stage.rawValue)\",le=\"\(bound)\"", h.counts[i])
            }
            labeled("vigil_stage_seconds_bucket", "stage=\"\(stage.rawValue)\",le=\"+Inf\"", h.counts.last ?? 0)
            labeled("vigil_stage_seconds_sum", "stage=\"\(stage.rawValue)\"", h.sum)
            labeled("vigil_stage_seconds_count", "stage=\"\(stage.rawValue)\"", h.counts.last ?? 0)
        }

        metric("vigil_batch_size", "histogram", "Records per batch.")
        var sizeCumulative = 0
        for (i, n) in s.batchSizes.buckets.enumerated() {
            sizeCumulative += n
            labeled("vigil_batch_size_bucket", "le=\"\((1 << i) - 1)\"", sizeCumulative)
        }
        labeled("vigil_batch_size_bucket", "le=\"+Inf\"", s.batchSizes.count)
        sample("vigil_batch_size_sum", s.batchSizes.sum)
        sample("vigil_batch_size_count", s.batchSizes.count)

        metric("vigil_consumer_lag", "gauge", "Records in the input partition not yet processed.")
        for (tp, value) in lag.sorted(by: { $0.key < $1.key }) {
            labeled("vigil_consumer_lag", "topic=\"\(tp.topic)\",partition=\"\(tp.partition)\"", value)
        }
        metric("vigil_assigned_partitions", "gauge", "Input partitions this instance owns.")
        sample("vigil_assigned_partitions", s.assignedPartitions)
        metric("vigil_paused", "gauge",
               "1 while consumption is paused because Redis cannot take the batches (unreachable, not answering, out of memory, "
                   + "authentication failed, loading, read-only); the cause is in vigil_not_ready and /readyz.")
        sample("vigil_paused", s.pausedReason == nil ? 0 : 1)
        if let probes {
            metric("vigil_ready", "gauge", "1 while /readyz answers 200.")
            sample("vigil_ready", probes.notReady.isEmpty ? 1 : 0)
            metric("vigil_live", "gauge", "1 while /healthz answers 200 (the pipeline shows progress within the stall bound).")
            sample("vigil_live", probes.stall == nil ? 1 : 0)
            metric("vigil_not_ready", "gauge", "1 for each cause that keeps /readyz from being ready, 0 for the others.")
            let active = Set(probes.notReady.map(\.label))
            for label in ProbeReport.labels { labeled("vigil_not_ready", "cause=\"\(label)\"", active.contains(label) ? 1 : 0) }
            metric("vigil_seconds_since_progress", "gauge",
                   "Seconds since the pipeline last showed progress (a batch stored, an idle poll, a bounded wait ending).")
            sample("vigil_seconds_since_progress", String(format: "%.3f", probes.secondsSinceProgress))
        }
        metric("vigil_model_info", "gauge", "The model version in force.")
        labeled("vigil_model_info", "version=\"\(escape(s.modelVersion))\"", 1)
        if let shadow = s.shadowModelVersion {
            metric("vigil_shadow_model_info", "gauge", "The candidate model scored in shadow (absent when there is none).")
            labeled("vigil_shadow_model_info", "version=\"\(escape(shadow))\"", 1)
            metric("vigil_shadow_verdicts_total", "counter",
                   "Decisions scored by the shadow model, by the active and the shadow verdict (equal verdicts: agreement). "
                       + "Counts the current shadow version since it was set.")
            for active in Verdict.allCases {
                for candidate in Verdict.allCases {
                    labeled("vigil_shadow_verdicts_total",
                            "shadow_version=\"\(escape(shadow))\",active=\"\(active.name)\",shadow=\"\(candidate.name)\"",
                            s.shadowVerdicts[active: active, shadow: candidate])
                }
            }
        }
        metric("vigil_input_partitioner_info", "gauge",
               "The partitioner input records are checked against (named by --input-partitioner or learned); 'unknown' while none.")
        labeled("vigil_input_partitioner_info", "partitioner=\"\(s.inputPartitioner ?? "unknown")\"", 1)
        metric("vigil_feature_catalog_info", "gauge", "The feature catalog served (docs/contract.md).")
        labeled("vigil_feature_catalog_info", "catalog=\"\(s.featureCatalog.rawValue)\"", 1)
        counter("vigil_models_refused_total",
                "Models refused on reload (invalid, or naming a feature the running catalog does not serve); the running model stayed.",
                s.modelsRefused)
        if s.featureCatalog.needsMerchantRisk {
            counter("vigil_merchant_risk_errors_total",
                    "Merchant-risk problems: the served version unreadable, or a batch lookup that found no usable snapshot or unreadable values (scored with the no-snapshot defaults).",
                    s.merchantRiskErrors)
            counter("vigil_merchant_risk_lookups_total", "Batches that looked their merchants up in a merchant-risk snapshot.",
                    s.merchantRiskLookups)
            metric("vigil_merchant_risk_info", "gauge", "The merchant-risk snapshot served ('none' while there is none).")
            labeled("vigil_merchant_risk_info", "version=\"\(escape(s.merchantRiskVersion ?? MerchantRiskVersion.none))\"", 1)
            if let cut = s.merchantRiskCutMs {
                metric("vigil_merchant_risk_snapshot_age_seconds", "gauge",
                       "Age of the served merchant-risk snapshot: now minus the cut time its version names.")
                sample("vigil_merchant_risk_snapshot_age_seconds", Double(nowMs - cut) / 1000)
            }
        }
        metric("vigil_mode_info", "gauge", "Delivery mode.")
        labeled("vigil_mode_info", "mode=\"\(s.mode.rawValue)\"", 1)
        return out
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}

import Foundation
