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

    func source(of message: KafkaMessage) -> String { "\(message.topic)/\(message.partition)/\(message.offset)" }
}
