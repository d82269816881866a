import Foundation
import Kafka
import Logging

/// The emit stage: gets batches' outputs into Kafka, once. At-least-once: one batch at a time; produce, wait for
/// every acknowledgement, produce again only what did not arrive. Exactly-once: one transaction with the consumed
/// offsets for one or more batches (`TransactionCadence` says how many share one), driven by `TransactionRun`
/// (librdkafka's documented rules, so a commit that may have landed is never produced again). In both, a copy of an
/// input message that Kafka refuses as it is goes out degraded (`DeliveryTracker`), so one oversized message never
/// stops a partition. The stage gives up only for a fatal error, a refusal no degradation can cure, or the shutdown
/// bound.
extension Pipeline {
    /// Emit stage: produces the outputs of `batches` (in order; more than one only exactly-once, all in one
    /// transaction) and waits until Kafka has them (acknowledged, or committed with their offsets), then remembers
    /// them as emitted. If it throws, none of them is emitted (a transaction that may have landed is settled first).
    func emitOutputs(of batches: [BatchToEmit]) throws {
        var timer = StageTimer()
        var degraded = 0
        switch config.mode {
        case .atLeastOnce:
            for member in batches where !member.outputs.isEmpty {
                var tracker = DeliveryTracker(isCopy: member.outputs.copies)
                try emitAcknowledged(member.outputs, &tracker, timer: &timer)
                degraded += tracker.degraded.count
            }
        case .exactlyOnce:
            degraded = try emitInTransaction(batches, timer: &timer)
        }
        if timer.nanos.isEmpty {  // nothing to produce
            timer.lap(.enqueue)
            timer.lap(.produce)
        }
        if degraded > 0 {
            logger.warning("input copies refused by Kafka as they are were sent without their body", metadata: [
                "count": "\(degraded)",
            ])
            stats.update { $0.degradedCopies += degraded }
        }
        for member in batches {
            for (tp, last) in member.batch.lastOffsets { partitions.noteEmitted(tp, until: last + 1) }
            if config.mode == .atLeastOnce, !member.batch.lastOffsets.isEmpty {
                // The offsets are the mark below which outputs are out (`StartPlan`): committed now, before the state
                // is stored, so that whoever owns the partition next replays an emitted but unstored batch into the
                // state without emitting it again. Only a crash before this commit lands repeats outputs.
                commitEmitted(offsetsToCommit(after: member.batch.lastOffsets), async: true)
            }
        }
        record(timer)
    }

    // MARK: at-least-once

    func emitAcknowledged(_ outputs: OutputBatch, _ tracker: inout DeliveryTracker, timer: inout StageTimer) throws {
        var round = 0
        while true {
            try produce(outputs, &tracker)
            if round == 0 { timer.lap(.enqueue) }
            round += 1
            let failed = try waitForDeliveries().failedTags.map { (entry: $0.tag, code: $0.code) }
            switch tracker.delivered(failed: failed) {
            case .done:
                timer.lap(.produce)
                return
            case .again(let backOff):
                logger.warning("outputs not delivered, producing them again", metadata: [
                    "count": "\(tracker.pending.count)", "round": "\(round)",
                ])
                stats.update { $0.outputsProducedAgain += tracker.pending.count }
                if backOff { try pauseEmit(round: round) }
            case .refused(let entry, let code):
                throw refusal(outputs, entry: entry, code: code)
            }
        }
    }

    /// Waits until every message handed to the producer is delivered or failed (failures come back as delivery
    /// reports after `message.timeout.ms`), in slices so that the shutdown bound can end the wait: then whatever is
    /// outstanding is purged and the batch fails (its records are processed again by the next owner). Returns the
    /// delivery reports since the last ones taken.
    func waitForDeliveries() throws -> DeliveryOutcome {
        while true {
            let outcome: DeliveryOutcome? = try {
                do {
                    return try producer.flush(timeoutMs: 500)
                } catch let error as KafkaError where error.isTimeout {
                    return nil
                }
            }()
            if let outcome { return outcome }
            probes.note(.waitingForKafka)
            if stopDeadlinePassed {
                producer.purge()
                throw PipelineError.shutdownBound("outputs still undelivered")
            }
        }
    }

    // MARK: exactly-once

    /// One transaction for the outputs of `batches` (those that have any) and their offsets: they all land or none
    /// does. Returns how many input copies went out degraded.
    func emitInTransaction(_ batches: [BatchToEmit], timer: inout StageTimer) throws -> Int {
        let members = batches.filter { !$0.outputs.isEmpty }
        guard !members.isEmpty else { return 0 }
        var deliveries = TransactionDeliveries(isCopy: members.map(\.outputs.copies))
        var run = TransactionRun()
        var retries = 0, aborts = 0
        var refused: (any Error)?  // a refusal no degradation cures: abort, then fail the batches with it
        // The batches are in order, so each partition's offset only grows from one to the next: the latest wins.
        var offsets: [TopicPartition: Int64] = [:]
        for member in members {
            offsets.merge(offsetsToCommit(after: member.batch.lastOffsets)) { max($0, $1) }
        }
        var enqueued = false
        while run.step != .emitted {
            if stopDeadlinePassed {
                // Past the bound: leave. An open transaction that cannot have landed is aborted (best effort; the
                // broker aborts it after transaction.timeout.ms anyway); one that may have landed is settled by the
                // next owner's init_transactions and committed offsets.
                if run.isOpen, !run.commitMayHaveLanded { try? producer.abortTransaction(timeoutMs: 1000) }
                throw PipelineError.shutdownBound("transaction not finished")
            }
            let step = run.step
            probes.note(.waitingForKafka)
            let result: TransactionRun.Result
            switch step {
            case .begin:
                _ = producer.takeDeliveryOutcome()  // reports of earlier transactions: this one's start afresh
                result = attempt { try producer.beginTransaction() }
            case .produce:
                do {
                    for i in members.indices {
                        try produce(members[i].outputs, &deliveries.trackers[i], tagBase: deliveries.bases[i])
                    }
                    if !enqueued {
                        timer.lap(.enqueue)
                        enqueued = true
                    }
                    result = .succeeded
                } catch let error as KafkaError {
                    result = .failed(error.transactionalHandling)
                    log(error)
                } catch {
                    refused = error
                    result = .failed(.abort)
                }
            case .sendOffsets:
                result = attempt {
                    try producer.sendOffsetsToTransaction(
                        offsets, groupMetadata: consumer.groupMetadata(), timeoutMs: config.kafkaTimeoutMs)
                }
            case .commit:
                result = attempt { try producer.commitTransaction(timeoutMs: -1) }
            case .abort:
                result = attempt { try producer.abortTransaction(timeoutMs: -1) }
                if result == .succeeded {
                    stats.update { $0.abortedTransactions += 1 }
                    aborts += 1
                    if let (i, entry, code) = deliveries.aborted(failed: producer.takeDeliveryOutcome().failedTags),
                       refused == nil {
                        refused = refusal(members[i].outputs, entry: entry, code: code)
                    }
                    if let refused { throw refused }
                    // Every abort follows a failure. One that keeps coming (a lost assignment whose offsets the
                    // group refuses, a persistent produce error) is not retried here without end: after a pause each
                    // time, the batches fail to the pipeline, which rewinds them and retries with its own back-off
                    // (and a rebalance callback waiting for them returns).
                    if aborts >= Self.abortsBeforeFailing { throw PipelineError.transactionAborted(aborts) }
                    try pauseEmit(round: aborts)
                }
            case .rebuildProducer:
                result = attempt {
                    let fresh = try Self.makeProducer(config, transactionalId: transactionalId)
                    // Finishes or aborts what the old producer left (rdkafka.h, init_transactions).
                    try fresh.initTransactions(timeoutMs: config.kafkaTimeoutMs)
                    replaceProducer(fresh)
                    stats.update { $0.producerRebuilds += 1 }
                }
            case .checkCommitted:
                // A transaction commits its consumed offsets atomically with its messages: they say whether it landed.
                do {
                    let committed = try consumer.committed(Array(offsets.keys), timeoutMs: config.kafkaTimeoutMs)
                    let landed = offsets.allSatisfy { tp, next in (committed[tp] ?? -1) >= next }
                    logger.warning("a transaction whose commit failed was checked against the committed offsets", metadata: [
                        "landed": "\(landed)",
                    ])
                    result = .landed(landed)
                } catch {
                    result = .failed(.retry)
                }
            case .emitted:
                preconditionFailure("loop ends at emitted")
            }
            run.next(after: result)
            if case .failed = result {
                retries += 1
                if run.step == step || run.step == .begin { try pauseEmit(round: retries) }
            }
        }
        timer.lap(.produce)
        stats.update {
            $0.committedTransactions += 1
            $0.batchesInTransactions += batches.count
        }
        // The "already emitted" mark for brokers that do not commit transactional offsets (librdkafka's mock cluster).
        // Sent synchronously here, before the next transaction begins (the emit stage is serial), so it never races a
        // later transaction or moves the group's offset back; on a real broker it repeats what the transaction
        // committed.
        if config.plainCommitAfterTransaction { commitEmitted(offsets, async: false) }
        return deliveries.degradedCount
    }

    /// Runs one transactional call and turns its error into what `TransactionRun` needs.
    private func attempt(_ body: () throws -> Void) -> TransactionRun.Result {
        do {
            try body()
            return .succeeded
        } catch let error as KafkaError {
            log(error)
            return .failed(error.transactionalHandling)
        } catch {
            logger.error("transactional call failed", metadata: ["error": "\(error)"])
            return .failed(.fatal)
        }
    }

    private func log(_ error: KafkaError) {
        logger.warning("transactional call failed", metadata: [
            "error": "\(error)", "handling": "\(error.transactionalHandling)",
        ])
        stats.update { $0.lastError = "\(error)" }
    }

    // MARK: shared

    /// Hands the tracker's pending outputs to librdkafka (which copies them), each tagged with `tagBase` plus its
    /// index so that delivery failures can be told apart. A copy librdkafka refuses at once (over
    /// `message.max.bytes`) is degraded and handed over again.
    func produce(_ outputs: OutputBatch, _ tracker: inout DeliveryTracker, tagBase: Int = 0) throws {
        let topics = config.topics
        let names = [topics.decisions, topics.alerts, topics.features, topics.shadow, topics.late, topics.dlq]  // Topic order
        let producer = self.producer  // one read of the slot per batch, not per message
        try outputs.forEach(at: tracker.pending) { i, entry, key, value in
            let topic = names[entry.topic.rawValue]
            if !tracker.degraded.contains(i) {
                do {
                    try producer.produce(topic: topic, key: key, value: value, headers: entry.headers, tag: tagBase + i)
                    return
                } catch let error as KafkaError where KafkaError.refusesMessage(error.code) {
                    guard tracker.refusedAtProduce(i, code: error.code) else { throw refusal(outputs, entry: i, code: error.code) }
                }
            }
            let degraded = outputs.degraded(entry, key: key, value: value)
            do {
                try producer.produce(
                    topic: topic, key: degraded.key, value: UnsafeRawBufferPointer(start: nil, count: 0),
                    headers: degraded.headers, tag: tagBase + i)
            } catch let error as KafkaError where KafkaError.refusesMessage(error.code) {
                throw refusal(outputs, entry: i, code: error.code)
            }
        }
    }

    func refusal(_ outputs: OutputBatch, entry: Int, code: Int32) -> PipelineError {
        let topic = outputs.entries[entry].topic
        return PipelineError.refused(
            "Kafka refuses a \(topic) output even at its smallest (error \(code)): check the topic's max.message.bytes and the producer's message.max.bytes")
    }

    /// Commits offsets as the mark below which outputs are out (`StartPlan`): never below what was committed before
    /// by this instance (the emit stage is serial, so the values only grow).
    /// The group offsets to commit once a batch ending at `lastOffsets` is out: past the batch, and never below a
    /// partition's emitted mark. While a partition is rebuilt from the log (records below the mark replayed without
    /// outputs), committing only past the batch would move the group's offset back, and a crash then would emit the
    /// rest of the replayed records again.
    func offsetsToCommit(after lastOffsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        var offsets: [TopicPartition: Int64] = [:]
        for (tp, last) in lastOffsets { offsets[tp] = max(last + 1, partitions.emittedUntil(tp) ?? 0) }
        return offsets
    }

    func commitEmitted(_ offsets: [TopicPartition: Int64], async: Bool) {
        do {
            try consumer.commit(offsets, async: async)
        } catch {
            logger.warning("offset commit failed", metadata: ["error": "\(error)"])
        }
    }

    /// Aborted transactions in a row after which the emit stage fails its batches instead of beginning again.
    static let abortsBeforeFailing = 5

    /// Between two tries of the emit stage: 50 ms doubling to 2 s, cut short by the shutdown bound.
    func pauseEmit(round: Int) throws {
        let ms = min(2000, 50 << min(round, 6))
        probes.note(.waitingForKafka)
        let deadline = Date().addingTimeInterval(Double(ms) / 1000)
        while Date() < deadline {
            if stopDeadlinePassed { throw PipelineError.shutdownBound("emit retry") }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}
