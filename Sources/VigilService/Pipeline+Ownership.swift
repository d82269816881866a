import Foundation
import Kafka
import Logging
import VigilCore

extension Pipeline {
    /// Rebalance callback: claims each new partition in Redis (a new epoch fences any earlier owner) and starts it
    /// where Redis says its state ends. A partition Redis cannot be asked about now is claimed by the next batch.
    func assigned(_ tps: [TopicPartition]) -> [TopicPartition: Int64] {
        refreshInputPartitionCount()
        partitions.assign(tps)
        var starts: [TopicPartition: Int64] = [:]
        // Without the group's offsets a partition cannot be told from a first start: then each is claimed by its
        // first batch, which asks again.
        let committed = Result { try consumer.committed(tps, timeoutMs: config.kafkaTimeoutMs) }
        for tp in tps {
            defer { probes.note(.claiming) }  // one bounded Redis round trip each: many during a Redis hang are no stall
            do {
                let plan = try claim(tp, committed: committed.get()[tp])
                if let start = plan.start { starts[tp] = start }
            } catch {
                logger.warning("could not claim partition on assignment, will retry with its first batch", metadata: [
                    "partition": "\(tp)", "error": "\(error)",
                ])
            }
        }
        logger.info("partitions assigned", metadata: [
            "partitions": "\(tps.sorted().map(\.description).joined(separator: ","))",
            "starts": "\(starts.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value)" }.joined(separator: ","))",
        ])
        stats.update { $0.assignedPartitions = partitions.count }
        return starts
    }

    /// Rebalance callback (inside `poll`, on the pipeline thread): waits for the batch in flight to finish, so
    /// nothing of these partitions is written after this returns.
    func revoked(_ tps: [TopicPartition]) {
        waitForInFlight()  // begins the batches held for a transaction at once; none stays open after its batches
        // What was emitted but perhaps not stored (Redis down, a failed batch) is marked as emitted in the group's
        // offsets before it is forgotten, so the next owner replays it into the state without emitting it again.
        cardCache.remove(partitions: Set(tps.map(\.partition)))
        let marks = partitions.revoke(tps)
        if !marks.isEmpty { commitEmitted(marks, async: isStopRequested) }
        if var outage = redisOutage {
            resume(outage.revoked(tps))
            redisOutage = outage
        }
        logger.info("partitions revoked", metadata: ["partitions": "\(tps.sorted().map(\.description).joined(separator: ","))"])
        stats.update { s in
            s.assignedPartitions = partitions.count
            // The event-time lag is of what this instance decides since it owns the partition.
            for tp in tps { s.newestEventTimeMs[tp] = nil }
        }
    }

    /// Claims `tp` and records how to start it. If the Redis prefix belongs to another deployment (it registered
    /// while this one's key was lost), claims nothing and stops the pipeline.
    @discardableResult
    func claim(_ tp: TopicPartition, committed: Int64?) throws -> StartPlan {
        // A new epoch: the partition's cards are read from Redis again (rebuilt from the log if Redis lost them).
        cardCache.remove(partitions: [tp.partition])
        var record: PartitionRecord
        do {
            record = try store.claimPartition(tp, for: deployment)
        } catch StateStoreError.otherDeployment(let conflict) {
            halt(because: conflict)
            throw StateStoreError.otherDeployment(conflict)
        }
        var committed = committed
        var firstStart = false
        if record.applied == nil, committed == nil, partitions.emittedUntil(tp) == nil, config.firstStart != .earliest {
            // A first start: nothing is known of this partition. Its start mark is committed as the group's offset
            // before anything is consumed, so that from here on it is an ordinary partition whose outputs are out up
            // to the mark (`StartPlan`): a crash during the warm-up replays the history again without outputs.
            if let mark = try firstStartMark(tp) {
                if config.firstStart == .latest {
                    // `latest`: Redis records that the state begins at the mark (applied = mark - 1, fenced by the
                    // claim's epoch), so no later claim, restart or rebalance replays the history into it.
                    let begins = PartitionRecord(applied: mark - 1, maxEventMs: record.maxEventMs, epoch: record.epoch)
                    try store.write(
                        partitions: [PartitionUpdate(partition: tp, expected: record, updated: begins)], cards: [],
                        ttlMs: config.features.stateTTLMs)
                    record = begins
                }
                try consumer.commit([tp: mark], async: false)  // a claim that cannot commit it fails, and is retried
                committed = mark
                firstStart = true
            }
        }
        let plan = partitions.claimed(tp, record, committed: committed)
        if let until = plan.replayUntil {
            if firstStart {
                logger.info("first start: replaying the partition's history into the card state without outputs", metadata: [
                    "partition": "\(tp)", "until": "\(until)",
                ])
            } else {
                logger.warning("rebuilding partition state from the log without emitting outputs again", metadata: [
                    "partition": "\(tp)", "from": "\(plan.start.map(String.init) ?? "committed")",
                    "until": "\(until)", "redis.applied": "\(record.applied.map(String.init) ?? "none")",
                ])
                stats.update { $0.repairs += 1 }
            }
        }
        return plan
    }

    /// Where a first start of `tp` begins deciding: for `latest` the end of the log; for `warm` the first record at
    /// most `firstStartLookbackMs` old (the end of the log if the broker knows none, or cannot look up by time).
    /// nil when the log holds nothing.
    func firstStartMark(_ tp: TopicPartition) throws -> Int64? {
        let (low, high) = try consumer.watermarks(tp, timeoutMs: config.kafkaTimeoutMs)
        guard high > low else { return nil }
        var mark = high
        if config.firstStart == .warm {
            let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - config.firstStartLookbackMs
            let byTime = try consumer.offsetsForTimes([tp], timestampMs: cutoff, timeoutMs: config.kafkaTimeoutMs)
            if let offset = byTime[tp] ?? nil { mark = min(max(offset, low), high) }
        }
        logger.notice("first start of a partition: records before the mark are not decided", metadata: [
            "partition": "\(tp)", "first_start": "\(config.firstStart.rawValue)", "mark": "\(mark)",
            "history.low": "\(low)", "history.rebuilds_state": "\(config.firstStart == .warm)",
        ])
        return mark
    }

    /// Makes sure every partition of a batch is owned and positioned. Returns the partitions whose messages in this
    /// batch must be dropped: the consumer was moved back to replay earlier records first, or another instance holds
    /// the partition (fenced: never claimed back from here, the group takes it away).
    func ensureOwned(_ firstOffsets: [TopicPartition: Int64]) throws -> Set<TopicPartition> {
        var rewound = Set<TopicPartition>()
        for tp in firstOffsets.keys where partitions.isFenced(tp) {
            rewound.insert(tp)
            rewoundThisBatch.insert(tp)  // paused: a failed batch does not move it either
        }
        for (tp, first) in firstOffsets where partitions.needsClaim(tp) {
            let committed = try consumer.committed([tp], timeoutMs: config.kafkaTimeoutMs)[tp]
            let plan = try claim(tp, committed: committed)
            guard let start = plan.start, start == KafkaOffset.beginning || start < first else { continue }
            // Redis's state ends before what the consumer is reading: replay the gap into the state first.
            partitions.noteEmitted(tp, until: first)
            try consumer.seek(tp, to: start, timeoutMs: config.kafkaTimeoutMs)
            rewound.insert(tp)
            rewoundThisBatch.insert(tp)
        }
        return rewound
    }

    /// This deployment, as registered under the Redis prefix.
    var deployment: Deployment { Deployment(group: config.group, topic: config.topics.transactions) }

    /// Stops consuming for good: another deployment holds the Redis prefix, so nothing may be claimed or written.
    /// `PipelineService` ends with the reason, so `vigil serve` exits with it.
    func halt(because conflict: DeploymentConflict) {
        guard stats.snapshot.haltReason == nil else { return }  // every partition's claim finds it; say it once
        logger.critical("another deployment holds the redis prefix, stopping", metadata: [
            "redis.prefix": "\(conflict.prefix)", "owner.group": "\(conflict.owner.group)",
            "owner.topic": "\(conflict.owner.topic)", "error": "\(conflict)",
        ])
        stats.update {
            $0.haltReason = "\(conflict)"
            $0.lastError = "\(conflict)"
        }
        requestStop()
    }

    /// While no records arrive, checks every few seconds that Redis still has what this instance stored for its
    /// partitions. A partition that is caught up gets no batch that would notice a Redis restart that lost its state,
    /// so this starts the rebuild from the log before the next transaction needs the state.
    func checkIdlePartitions() {
        guard Date().timeIntervalSince(lastIdleCheck) >= 2 else { return }
        lastIdleCheck = Date()
        for (tp, ours) in partitions.owned {
            do {
                let current = try store.loadPartition(tp)
                guard current.applied != ours.applied || current.epoch != ours.epoch else { continue }
                handleFence(FenceReport(partition: tp, current: current))
                if partitions.needsClaim(tp), current.epoch ?? 0 <= ours.epoch ?? 0 {
                    // Redis lost it: claim again and replay from where Redis's state ends.
                    _ = try ensureOwned([tp: (ours.applied ?? -1) + 1])
                }
            } catch {
                logger.warning("idle partition check failed", metadata: ["partition": "\(tp)", "error": "\(error)"])
                return
            }
        }
    }
}
