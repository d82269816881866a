import Kafka
import VigilCore

extension Pipeline {
    /// Encode stage: the outputs of every record whose outputs were not emitted before (emitted marks only move for
    /// offsets below this batch's while it waits here, so deciding now is the same as deciding when producing), with
    /// the shadow model's messages if one is set.
    func encodeOutputs(of batch: PreparedBatch) -> EncodedOutputs {
        var timer = StageTimer()
        var shadow = ShadowScorer(models.shadow)  // a candidate scored beside the model, never deciding; nil if none
        let emittedUntil = batch.slotPartitions.map { partitions.emittedUntil($0) }
        var outputs = OutputBatch(expectedRecords: batch.messages.count)
        var replayed = 0
        for (j, message) in batch.messages.enumerated() {
            if let until = emittedUntil[batch.recordSlots[j]], message.offset < until {
                replayed += 1
                continue
            }
            encode(batch.outcomes[j], for: message, into: &outputs, shadow: &shadow)
        }
        timer.lap(.encode)
        record(timer)
        return EncodedOutputs(outputs: outputs, replayed: replayed, shadow: shadow)
    }

    func encode(_ outcome: RecordOutcome, for message: KafkaMessage, into outputs: inout OutputBatch,
                shadow: inout ShadowScorer?) {
        switch outcome {
        case .decided(let d):
            let txKey = outputs.store(d.transaction.transactionId)
            let decision = encoder.withDecision(d) { outputs.store($0) }
            outputs.add(.decisions, key: txKey, value: decision)
            if d.raisesAlert {
                outputs.add(.alerts, key: outputs.store(d.transaction.cardId), value: decision)
            }
            outputs.add(.features, key: txKey, value: encoder.withFeatureRecord(d) { outputs.store($0) })
            if shadow != nil {  // a candidate's verdict beside the decision (ShadowScorer.swift)
                let value = shadow!.withMessage(for: d, encoder: &encoder) { outputs.store($0) }
                outputs.add(.shadow, key: txKey, value: value)
            }
        case .late(let tx, let watermark, let behind):
            let value = message.value.withUnsafeBytes { outputs.store($0) }
            outputs.add(.late, key: outputs.store(tx.cardId), value: value, headers: [
                KafkaHeader(name: "vigil.source", value: Array(source(of: message).utf8)),
                KafkaHeader(name: "vigil.watermark_ms", value: Array(String(watermark).utf8)),
                KafkaHeader(name: "vigil.behind_watermark_ms", value: Array(String(behind).utf8)),
                KafkaHeader(name: "vigil.allowed_lateness_ms", value: Array(String(config.features.latenessMs).utf8)),
            ])
        case .rejected(let reason):
            let key = message.key.map { key in key.withUnsafeBytes { outputs.store($0) } }
            let value = message.value.withUnsafeBytes { outputs.store($0) }
            outputs.add(.dlq, key: key, value: value, headers: [
                KafkaHeader(name: "vigil.error", value: Array(reason.code.utf8)),
                KafkaHeader(name: "vigil.source", value: Array(source(of: message).utf8)),
            ])
        }
    }

    /// Emit stage: produces a batch's encoded outputs and waits until Kafka has them: acknowledged
    /// (at-least-once) or committed in one transaction with the consumed offsets (exactly-once).
    func emit(_ outputs: OutputBatch, lastOffsets: [TopicPartition: Int64], timer: inout StageTimer) throws {
        guard !outputs.isEmpty else {
            timer.lap(.enqueue)
            timer.lap(.produce)
            return
        }
        switch config.mode {
        case .atLeastOnce:
            try produce(outputs)
            timer.lap(.enqueue)
            let delivery = try producer.flush(timeoutMs: config.produceTimeoutMs)
            if delivery.failed > 0 {
                throw PipelineError.delivery(
                    "\(delivery.failed) outputs not delivered: \(delivery.errors.map(\.description).joined(separator: "; "))")
            }
            timer.lap(.produce)
        case .exactlyOnce:
            try producer.beginTransaction()
            inTransaction = true
            try produce(outputs)
            timer.lap(.enqueue)
            let metadata = try consumer.groupMetadata()
            try producer.sendOffsetsToTransaction(
                lastOffsets.mapValues { $0 + 1 }, groupMetadata: metadata, timeoutMs: config.kafkaTimeoutMs)
            try producer.commitTransaction(timeoutMs: config.kafkaTimeoutMs)
            inTransaction = false
            let delivery = producer.takeDeliveryOutcome()
            if delivery.failed > 0 {
                // commitTransaction succeeds only when every message was delivered; this is a safety net.
                throw PipelineError.delivery("\(delivery.failed) outputs failed inside a committed transaction")
            }
            timer.lap(.produce)
        }
    }

    /// Hands every output to librdkafka (which copies it).
    func produce(_ outputs: OutputBatch) throws {
        let topics = config.topics
        let names = [topics.decisions, topics.alerts, topics.features, topics.shadow, topics.late, topics.dlq]  // Topic order
        try outputs.forEach { entry, key, value in
            try producer.produce(topic: names[entry.topic.rawValue], key: key, value: value, headers: entry.headers)
        }
    }

    func source(of message: KafkaMessage) -> String { "\(message.topic)/\(message.partition)/\(message.offset)" }
}
