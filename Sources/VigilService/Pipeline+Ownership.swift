import Foundation
import Kafka
import Logging
import VigilCore

extension Pipeline {
    /// Rebalance callback: claims each new partition in Redis (a new epoch fences any earlier owner) and starts it
    /// where Redis says its state ends. A partition Redis cannot be asked about now is claimed by the next batch.
    func assigned(_ tps: [TopicPartition]) -> [TopicPartition: Int64] {
        refreshInputPartitionCount()
        var starts: [TopicPartition: Int64] = [:]
        let committed = (try? consumer.committed(tps, timeoutMs: config.kafkaTimeoutMs)) ?? [:]
        for tp in tps {
            do {
                let plan = try claim(tp, committed: committed[tp])
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
        waitForInFlight()  // the emit stage never leaves a transaction open when a batch ends
        // What was emitted but perhaps not stored (Redis down, a failed batch) is marked as emitted in the group's
        // offsets before it is forgotten, so the next owner replays it into the state without emitting it again.
        var marks: [TopicPartition: Int64] = [:]
        for tp in tps { if let until = partitions.emittedUntil(tp) { marks[tp] = until } }
        if !marks.isEmpty { commitEmitted(marks, async: isStopRequested) }
        if var outage = redisOutage {
            resume(outage.revoked(tps))
            redisOutage = outage
        }
        partitions.revoke(tps)
        logger.info("partitions revoked", metadata: ["partitions": "\(tps.sorted().map(\.description).joined(separator: ","))"])
        stats.update { $0.assignedPartitions = partitions.count }
    }

    /// Claims `tp` and records how to start it. If the Redis prefix belongs to another deployment (it registered
    /// while this one's key was lost), claims nothing and stops the pipeline.
    @discardableResult
    func claim(_ tp: TopicPartition, committed: Int64?) throws -> StartPlan {
        let record: PartitionRecord
        do {
            record = try store.claimPartition(tp, for: deployment)
        } catch StateStoreError.otherDeployment(let conflict) {
            halt(because: conflict)
            throw StateStoreError.otherDeployment(conflict)
        }
        let plan = StartPlan.make(record: record, committed: committed, emitted: partitions.emittedUntil(tp))
        partitions[tp] = OwnedPartition(record: record)
        if let until = plan.replayUntil {
            partitions.noteEmitted(tp, until: until)
            logger.warning("rebuilding partition state from the log without emitting outputs again", metadata: [
                "partition": "\(tp)", "from": "\(plan.start.map(String.init) ?? "committed")",
                "until": "\(until)", "redis.applied": "\(record.applied.map(String.init) ?? "none")",
            ])
            stats.update { $0.repairs += 1 }
        }
        return plan
    }

    /// Makes sure every partition of a batch is owned and positioned. Returns the partitions whose messages in this
    /// batch must be dropped because the consumer was moved back to replay earlier records first.
    func ensureOwned(_ firstOffsets: [TopicPartition: Int64]) throws -> Set<TopicPartition> {
        var rewound = Set<TopicPartition>()
        for (tp, first) in firstOffsets where partitions[tp] == nil {
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
        for tp in partitions.partitions {
            guard let ours = partitions[tp]?.record else { continue }
            do {
                let current = try store.loadPartition(tp)
                guard current.applied != ours.applied || current.epoch != ours.epoch else { continue }
                handleFence(FenceReport(partition: tp, current: current))
                if partitions[tp] == nil, current.epoch ?? 0 <= ours.epoch ?? 0 {
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
