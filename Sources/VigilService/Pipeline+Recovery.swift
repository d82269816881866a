import Foundation
import Kafka
import Logging
import VigilCore

extension Pipeline {
    /// A batch failed before its state was stored: nothing of it counts in Redis. Abort its transaction if one is
    /// open, rewind its partitions to `retryFrom` (the batch's first offsets, and those of the batch prepared on top
    /// of it), and retry. Outputs that did reach Kafka are remembered (`PartitionTable.noteEmitted`) so the retry
    /// does not emit them twice.
    func recover(from error: any Error, retryFrom firstOffsets: [TopicPartition: Int64]) {
        consecutiveFailures += 1
        rewoundThisBatch = []
        // Whatever failed (a fence, lost writes, an outage, a partial store), Redis is read again for every card.
        cardCache.removeAll()
        logger.error("batch failed, retrying", metadata: [
            "error": "\(error)", "partitions": "\(firstOffsets.count)", "attempt": "\(consecutiveFailures)",
        ])
        stats.update { s in
            s.retriedBatches += 1
            s.lastError = "\(error)"
        }
        probes.noteFailure("\(error)")
        if let kafkaError = error as? KafkaError, kafkaError.isFatal { rebuildProducer(after: kafkaError) }

        switch error {
        case StateStoreError.fenced(let report):
            handleFence(report)
        case _ where RedisCondition.of(error).map(pausesConsumption) ?? false:
            // Redis is unreachable, hung or refuses the batch (out of memory, authentication, a read-only replica...).
            // Every assigned partition stops, claimed or not, and each is later put back explicitly where Vigil's
            // processing ends: nothing polled meanwhile is processed, and nothing depends on where librdkafka puts a
            // paused or resumed partition.
            var outage = RedisOutage(since: Date(), resumeAt: firstOffsets)
            let assigned = (try? consumer.assignment()) ?? partitions.assigned
            let positions = (try? consumer.positions(assigned)) ?? [:]
            for (tp, next) in positions where next >= 0 && outage.resumeAt[tp] == nil { outage.resumeAt[tp] = next }
            outage.pauseNew(assigned, pause)
            redisOutage = outage
            let condition = RedisCondition.of(error) ?? .unreachable("\(error)")
            stats.update {
                $0.pausedReason = condition.cause
                $0.pausedCondition = condition
                $0.pausedPartitions = outage.paused.count
            }
            return
        default:
            break
        }
        rewind(firstOffsets)
        backOff()
    }

    /// Another instance claimed the partition (a newer epoch): stop touching it until the group takes it away.
    /// Otherwise Redis lost writes (the record is behind or gone): claim again and rebuild it from the log.
    func handleFence(_ report: FenceReport) {
        let tp = report.partition
        cardCache.remove(partitions: [tp.partition])
        let ours = partitions.record(tp)
        stats.update { $0.fencedBatches += 1 }
        switch partitions.fenced(tp, current: report.current) {
        case .pause:
            logger.warning("partition claimed by another instance, pausing it until the rebalance", metadata: [
                "partition": "\(tp)", "epoch.ours": "\(ours?.epoch ?? 0)", "epoch.redis": "\(report.current.epoch ?? 0)",
            ])
            pause([tp])
        case .claim:
            logger.error("redis lost this partition's recent state, rebuilding it from the log", metadata: [
                "partition": "\(tp)", "redis.applied": "\(report.current.applied.map(String.init) ?? "none")",
                "expected.applied": "\(ours?.applied.map(String.init) ?? "none")",
            ])
        case .none, .start, .commitAndForget:
            break  // not owned (already fenced, or unclaimed): nothing to do
        }
    }

    /// Consumption is paused while Redis is unreachable; the consumer keeps polling so it stays in the group. Every
    /// partition assigned meanwhile is paused too; a record that arrives anyway is not processed but remembered as
    /// where its partition resumes.
    func waitOutRedisOutage() {
        guard var outage = redisOutage else { return }
        let polled = (try? consumer.pollBatch(maxMessages: 100, timeoutMs: 100)) ?? []
        for message in polled { outage.arrived(message.topicPartition, at: message.offset) }
        outage.pauseNew((try? consumer.assignment()) ?? [], pause)
        redisOutage = outage
        stats.update { $0.pausedPartitions = outage.paused.count }
        backOff()
        probes.note(.waitingForRedis)
        // A write, not a PING: a Redis out of memory (or read-only, or unable to persist) answers PING but refuses
        // the batch.
        if let condition = store.probeWrite(partitions: outage.paused.map(\.partition)) {
            stats.update {
                $0.pausedReason = condition.cause
                $0.pausedCondition = condition
            }
            if consecutiveFailures % 10 == 0 {
                logger.warning("redis still cannot take writes, consumption paused", metadata: [
                    "cause": "\(condition.cause)", "error": "\(condition.detail)", "since": "\(outage.since)",
                ])
            }
            consecutiveFailures += 1
            return
        }
        logger.info("redis reachable again, resuming", metadata: [
            "paused.seconds": "\(Int(Date().timeIntervalSince(outage.since)))",
        ])
        redisOutage = nil
        // Not reset here: if the next batch fails at once (a node the probe cannot see), the backoff keeps growing;
        // a batch that succeeds resets it.
        // Back to where processing ends: the failed batches' first offsets, each other partition's position when
        // the outage began, or the first record that arrived during it. Then every paused partition resumes.
        let assigned = Set((try? consumer.assignment()) ?? [])
        // A partition fenced meanwhile stays paused until the group takes it away.
        rewind(outage.resumeAt.filter { assigned.contains($0.key) && !partitions.isFenced($0.key) })
        resume(outage.paused.filter { assigned.contains($0) && !partitions.isFenced($0) })
        logger.info("partitions rewound and resumed after the redis outage", metadata: [
            "rewound": "\(outage.resumeAt.count)", "resumed": "\(outage.paused.count)",
        ])
        stats.update {
            $0.pausedReason = nil
            $0.pausedCondition = nil
            $0.pausedPartitions = 0
        }
    }

    func rewind(_ firstOffsets: [TopicPartition: Int64]) {
        for (tp, offset) in firstOffsets {
            do {
                try consumer.seek(tp, to: offset, timeoutMs: config.kafkaTimeoutMs)
            } catch {
                logger.warning("seek back failed", metadata: ["partition": "\(tp)", "error": "\(error)"])
            }
        }
    }

    func pause(_ tps: [TopicPartition]) {
        guard !tps.isEmpty else { return }
        do { try consumer.pause(tps) } catch { logger.warning("pause failed", metadata: ["error": "\(error)"]) }
    }

    func resume(_ tps: [TopicPartition]) {
        guard !tps.isEmpty else { return }
        do { try consumer.resume(tps) } catch { logger.warning("resume failed", metadata: ["error": "\(error)"]) }
    }

    /// A fatal producer error (for example fenced by a newer instance with the same transactional id): throw the
    /// producer away and start a new one; the batch is retried from its first offsets.
    func rebuildProducer(after error: any Error) {
        logger.error("rebuilding the producer after a fatal error", metadata: ["error": "\(error)"])
        do {
            let fresh = try Self.makeProducer(config, transactionalId: transactionalId)
            if config.mode == .exactlyOnce { try fresh.initTransactions(timeoutMs: config.kafkaTimeoutMs) }
            replaceProducer(fresh)
            stats.update { $0.producerRebuilds += 1 }
        } catch {
            logger.critical("could not rebuild the producer", metadata: ["error": "\(error)"])
        }
    }

    func backOff() {
        probes.note(.retrying)
        let ms = min(5000, 100 << min(consecutiveFailures, 6))
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < deadline, !isStopRequested { Thread.sleep(forTimeInterval: 0.05) }
    }
}
