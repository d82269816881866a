extension OutputEncoder {
    /// `fraud.shadow` message: the decision's fields as the shadow model decided them (its verdict, score, reasons
    /// and `model_version`), plus what the active model decided (`active_verdict`, `active_score`,
    /// `active_model_version`), so each message is one comparison.
    public mutating func shadowDecision(_ d: Decision, shadow: Score, shadowVersion: String) -> [UInt8] {
        writeShadowDecision(d, shadow: shadow, shadowVersion: shadowVersion)
        return writer.bytes
    }

    /// Encodes the shadow message into the reused buffer and lends it to `body` (valid only inside it).
    public mutating func withShadowDecision<R>(
        _ d: Decision, shadow: Score, shadowVersion: String, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        writeShadowDecision(d, shadow: shadow, shadowVersion: shadowVersion)
        return try writer.bytes.withUnsafeBytes(body)
    }

    mutating func writeShadowDecision(_ d: Decision, shadow: Score, shadowVersion: String) {
        writer.reset()
        writer.beginObject()
        writer.key("schema_version"); writer.int(Self.schemaVersion)
        writer.key("transaction_id"); writer.string(d.transaction.transactionId)
        writer.key("card_id"); writer.string(d.transaction.cardId)
        writer.key("verdict"); writer.string(shadow.verdict.name)
        writer.key("score"); writer.double(shadow.value)
        writer.key("model_version"); writer.string(shadowVersion)
        writer.key("reasons")
        writer.beginArray()
        for i in 0..<shadow.reasons.count {
            let reason = shadow.reasons[i]
            writer.beginObject()
            writer.key("feature"); writer.string(reason.feature.name)
            writer.key("contribution"); writer.double(reason.contribution)
            writer.endObject()
        }
        writer.endArray()
        writer.key("event_time_ms"); writer.int(d.transaction.eventTimeMs)
        writer.key("decided_at_ms"); writer.int(d.decidedAtMs)
        writer.key("active_verdict"); writer.string(d.verdict.name)
        writer.key("active_score"); writer.double(d.score.value)
        writer.key("active_model_version"); writer.string(d.modelVersion)
        writer.endObject()
    }
}
