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
        logger.error("batch failed, retrying", metadata: [
            "error": "\(error)", "partitions": "\(firstOffsets.count)", "attempt": "\(consecutiveFailures)",
        ])
        stats.update { s in
            s.retriedBatches += 1
            s.lastError = "\(error)"
        }
        if inTransaction { abortTransaction() }
        if let kafkaError = error as? KafkaError, kafkaError.isFatal { rebuildProducer(after: kafkaError) }

        switch error {
        case StateStoreError.fenced(let report):
            handleFence(report)
        case StateStoreError.redis:
            redisOutage = (Date(), firstOffsets)
            stats.update { $0.pausedReason = "redis unreachable" }
            pause(partitions.partitions)
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
        let ours = partitions[tp]?.record.epoch ?? 0
        stats.update { $0.fencedBatches += 1 }
        if let theirs = report.current.epoch, theirs > ours {
            logger.warning("partition claimed by another instance, pausing it until the rebalance", metadata: [
                "partition": "\(tp)", "epoch.ours": "\(ours)", "epoch.redis": "\(theirs)",
            ])
            partitions.remove([tp])
            pause([tp])
        } else {
            logger.error("redis lost this partition's recent state, rebuilding it from the log", metadata: [
                "partition": "\(tp)", "redis.applied": "\(report.current.applied.map(String.init) ?? "none")",
                "expected.applied": "\(partitions[tp]?.record.applied.map(String.init) ?? "none")",
            ])
            partitions.remove([tp])
        }
    }

    /// Consumption is paused while Redis is unreachable; the consumer keeps polling so it stays in the group.
    func waitOutRedisOutage() {
        guard let outage = redisOutage else { return }
        _ = try? consumer.pollBatch(maxMessages: 1, timeoutMs: 100)
        backOff()
        do {
            try store.ping()
        } catch {
            if consecutiveFailures % 10 == 0 {
                logger.warning("redis still unreachable, consumption paused", metadata: [
                    "error": "\(error)", "since": "\(outage.since)",
                ])
            }
            consecutiveFailures += 1
            return
        }
        logger.info("redis reachable again, resuming", metadata: [
            "paused.seconds": "\(Int(Date().timeIntervalSince(outage.since)))",
        ])
        redisOutage = nil
        consecutiveFailures = 0
        // Messages fetched during the pause are stale: go back to the failed batch's start.
        rewind(outage.batchStarts)
        resume((try? consumer.assignment()) ?? [])
        stats.update { $0.pausedReason = nil }
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

    func abortTransaction() {
        do {
            try producer.abortTransaction(timeoutMs: config.kafkaTimeoutMs)
            inTransaction = false
        } catch {
            logger.error("transaction abort failed", metadata: ["error": "\(error)"])
            rebuildProducer(after: error)
        }
    }

    /// A fatal producer error (for example fenced by a newer instance with the same transactional id): throw the
    /// producer away and start a new one; the batch is retried from its first offsets.
    func rebuildProducer(after error: any Error) {
        logger.error("rebuilding the producer after a fatal error", metadata: ["error": "\(error)"])
        do {
            producer = try Self.makeProducer(config, transactionalId: transactionalId)
            if config.mode == .exactlyOnce { try producer.initTransactions(timeoutMs: config.kafkaTimeoutMs) }
            inTransaction = false
            stats.update { $0.producerRebuilds += 1 }
        } catch {
            logger.critical("could not rebuild the producer", metadata: ["error": "\(error)"])
        }
    }

    func backOff() {
        let ms = min(5000, 100 << min(consecutiveFailures, 6))
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < deadline, !isStopRequested { Thread.sleep(forTimeInterval: 0.05) }
    }
}
