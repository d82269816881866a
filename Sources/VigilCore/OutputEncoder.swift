/// Encodes Vigil's output messages exactly as the contract lays them out. Reuses one buffer; not thread-safe.
public struct OutputEncoder {
    public static let schemaVersion: Int64 = 1
    var writer = JSONWriter(capacity: 1024)
    /// The running catalog: decides the feature record's schema version and which features it carries.
    public var catalog: FeatureCatalog

    public init(catalog: FeatureCatalog = .v1) { self.catalog = catalog }

    /// `fraud.decisions` message; `fraud.alerts` carries the same fields. Returns a copy; the hot path uses
    /// `withDecision` to avoid it.
    public mutating func decision(_ d: Decision) -> [UInt8] {
        writeDecision(d)
        return writer.bytes
    }

    /// `fraud.features` message. Returns a copy; the hot path uses `withFeatureRecord`.
    public mutating func featureRecord(_ d: Decision) -> [UInt8] {
        writeFeatureRecord(d)
        return writer.bytes
    }

    /// Encodes the decision into the reused buffer and lends it to `body` (valid only inside it): no allocation.
    public mutating func withDecision<R>(_ d: Decision, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        writeDecision(d)
        return try writer.bytes.withUnsafeBytes(body)
    }

    /// Encodes the feature record into the reused buffer and lends it to `body` (valid only inside it).
    public mutating func withFeatureRecord<R>(_ d: Decision, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        writeFeatureRecord(d)
        return try writer.bytes.withUnsafeBytes(body)
    }

    mutating func writeDecision(_ d: Decision) {
        writer.reset()
        writer.beginObject()
        writeDecisionFields(d, score: d.score, modelVersion: d.modelVersion)
        writer.endObject()
    }

    /// The contract's decision fields, with `score` and `modelVersion` from the model that decided (the active one,
    /// or a shadow candidate).
    mutating func writeDecisionFields(_ d: Decision, score: Score, modelVersion: String) {
        writer.key("schema_version"); writer.int(Self.schemaVersion)
        writer.key("transaction_id"); writer.string(d.transaction.transactionId)
        writer.key("card_id"); writer.string(d.transaction.cardId)
        writer.key("verdict"); writer.string(score.verdict.name)
        writer.key("score"); writer.double(score.value)
        writer.key("model_version"); writer.string(modelVersion)
        writer.key("reasons")
        writer.beginArray()
        for i in 0..<score.reasons.count {
            let reason = score.reasons[i]
            writer.beginObject()
            writer.key("feature"); writer.string(reason.feature.staticName)
            writer.key("contribution"); writer.double(reason.contribution)
            writer.endObject()
        }
        writer.endArray()
        writer.key("event_time_ms"); writer.int(d.transaction.eventTimeMs)
        writer.key("decided_at_ms"); writer.int(d.decidedAtMs)
    }

    /// `fraud.features` message: every feature of the running catalog, exactly the values that were scored.
    mutating func writeFeatureRecord(_ d: Decision) {
        guard catalog == .v1 else { return writeFeatureRecordV2(d) }
        writer.reset()
        writer.beginObject()
        writer.key("schema_version"); writer.int(Self.schemaVersion)
        writer.key("transaction_id"); writer.string(d.transaction.transactionId)
        writer.key("card_id"); writer.string(d.transaction.cardId)
        writer.key("event_time_ms"); writer.int(d.transaction.eventTimeMs)
        writer.key("model_version"); writer.string(d.modelVersion)
        writer.key("score"); writer.double(d.score.value)
        writer.key("verdict"); writer.string(d.verdict.name)
        writer.key("features")
        writer.beginObject()
        for slot in 0..<FeatureCatalog.v1.count {
            let feature = Feature(rawValue: slot)!
            writer.key(feature.staticName)
            writer.double(d.features.values[slot])
        }
        writer.endObject()
        writer.endObject()
    }

    /// Feature record schema version 2 (catalog 2): the entity keys and versions the batch layer joins on, then
    /// every catalog-2 feature.
    mutating func writeFeatureRecordV2(_ d: Decision) {
        writer.reset()
        writer.beginObject()
        writer.key("schema_version"); writer.int(catalog.featureRecordSchemaVersion)
        writer.key("catalog_version"); writer.int(Int64(catalog.rawValue))
        writer.key("transaction_id"); writer.string(d.transaction.transactionId)
        writer.key("card_id"); writer.string(d.transaction.cardId)
        writer.key("merchant_id"); writer.string(d.transaction.merchantId)
        writer.key("event_time_ms"); writer.int(d.transaction.eventTimeMs)
        writer.key("model_version"); writer.string(d.modelVersion)
        writer.key("merchant_risk_version")
        if let version = d.merchantRiskVersion { writer.string(version) } else { writer.string(MerchantRiskVersion.none) }
        writer.key("score"); writer.double(d.score.value)
        writer.key("verdict"); writer.string(d.verdict.name)
        writer.key("features")
        writer.beginObject()
        for slot in 0..<catalog.count {
            let feature = Feature(rawValue: slot)!
            writer.key(feature.staticName)
            writer.double(d.features.values[slot])
        }
        writer.endObject()
        writer.endObject()
    }
}
