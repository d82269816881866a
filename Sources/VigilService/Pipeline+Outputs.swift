import Kafka
import VigilCore

extension Pipeline {
    /// Produces the outputs of every record whose outputs were not emitted before, and waits until Kafka has them:
    /// acknowledged (at-least-once) or committed in one transaction with the consumed offsets (exactly-once).
    /// Returns how many records were replayed into the state without outputs. With a shadow model, each decision
    /// emitted also gets its shadow message, in the same delivery (or transaction).
    func emit(
        _ messages: [KafkaMessage], _ outcomes: [RecordOutcome], lastOffsets: [TopicPartition: Int64],
        shadow: inout ShadowScorer?, timer: inout StageTimer
    ) throws -> Int {
        var replayed = 0
        var pending: [Int] = []
        pending.reserveCapacity(messages.count)
        for (i, message) in messages.enumerated() {
            if let until = partitions.emittedUntil(message.topicPartition), message.offset < until {
                replayed += 1
            } else {
                pending.append(i)
            }
        }
        guard !pending.isEmpty else {
            timer.lap(.enqueue)
            timer.lap(.produce)
            return replayed
        }
        switch config.mode {
        case .atLeastOnce:
            for i in pending { try produce(outcomes[i], for: messages[i], shadow: &shadow) }
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
            for i in pending { try produce(outcomes[i], for: messages[i], shadow: &shadow) }
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
        return replayed
    }

    func produce(_ outcome: RecordOutcome, for message: KafkaMessage, shadow: inout ShadowScorer?) throws {
        let topics = config.topics
        switch outcome {
        case .decided(let d):
            // Encoded into the encoder's reused buffer and copied once, by librdkafka.
            var txId = d.transaction.transactionId
            var cardId = d.transaction.cardId
            try txId.withUTF8 { txKey in
                try encoder.withDecision(d) { decision in
                    try producer.produce(topic: topics.decisions, key: UnsafeRawBufferPointer(txKey), value: decision)
                    if d.raisesAlert {
                        try cardId.withUTF8 { cardKey in
                            try producer.produce(topic: topics.alerts, key: UnsafeRawBufferPointer(cardKey), value: decision)
                        }
                    }
                }
                try encoder.withFeatureRecord(d) { record in
                    try producer.produce(topic: topics.features, key: UnsafeRawBufferPointer(txKey), value: record)
                }
                if shadow != nil {  // a candidate's verdict beside the decision (ShadowScorer.swift)
                    try shadow!.withMessage(for: d, encoder: &encoder) { value in
                        try producer.produce(topic: topics.shadow, key: UnsafeRawBufferPointer(txKey), value: value)
                    }
                }
            }
        case .late(let tx, let watermark, let behind):
            try producer.produce(topic: topics.late, key: Array(tx.cardId.utf8), value: message.value, headers: [
                KafkaHeader(name: "vigil.source", value: Array(source(of: message).utf8)),
                KafkaHeader(name: "vigil.watermark_ms", value: Array(String(watermark).utf8)),
                KafkaHeader(name: "vigil.behind_watermark_ms", value: Array(String(behind).utf8)),
                KafkaHeader(name: "vigil.allowed_lateness_ms", value: Array(String(config.features.latenessMs).utf8)),
            ])
        case .rejected(let reason):
            try producer.produce(topic: topics.dlq, key: message.key, value: message.value, headers: [
                KafkaHeader(name: "vigil.error", value: Array(reason.code.utf8)),
                KafkaHeader(name: "vigil.source", value: Array(source(of: message).utf8)),
            ])
        }
    }

    func source(of message: KafkaMessage) -> String { "\(message.topic)/\(message.partition)/\(message.offset)" }
}
