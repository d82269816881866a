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
        writeDecisionFields(d, score: shadow, modelVersion: shadowVersion)
        writer.key("active_verdict"); writer.string(d.verdict.name)
        writer.key("active_score"); writer.double(d.score.value)
        writer.key("active_model_version"); writer.string(d.modelVersion)
        writer.endObject()
    }
}
