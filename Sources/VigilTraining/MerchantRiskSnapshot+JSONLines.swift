import VigilCore

/// The snapshot as a JSON-lines file (`vigil merchant-risk --out`): a header line, then one line per merchant in the
/// snapshot's order.
///
///     {"merchant_risk_snapshot":1,"version":"2026-11-24T00-00-00Z-3f2a...","cut_ms":...,"cut":"2026-11-24T00:00:00Z",
///      "label_delay_ms":604800000,"window_start_ms":...,"window_end_ms":...,"merchants":2,
///      "totals":{"tx_1d":3,"tx_7d":9,"tx_30d":40,"fraud_1d":1,"fraud_7d":1,"fraud_30d":2}}
///     {"merchant_id":"m-1","tx_1d":1,"tx_7d":4,"tx_30d":22,"fraud_1d":1,"fraud_7d":1,"fraud_30d":1}
extension MerchantRiskSnapshot {
    public func headerLine() -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.key("merchant_risk_snapshot"); w.int(1)
        w.key("version"); w.string(version)
        w.key("cut_ms"); w.int(cut.cutMs)
        w.key("cut"); w.string(UTCTime.iso(cut.cutMs))
        w.key("label_delay_ms"); w.int(cut.labelDelayMs)
        w.key("window_start_ms"); w.int(cut.windowStartMs)
        w.key("window_end_ms"); w.int(cut.windowEndMs)
        w.key("merchants"); w.int(Int64(merchants.count))
        w.key("totals"); Self.writeCounts(totals, to: &w)
        w.endObject()
        return w.bytes
    }

    public static func merchantLine(_ merchantId: String, _ counts: MerchantRiskCounts, into w: inout JSONWriter) {
        w.reset()
        w.beginObject()
        w.key("merchant_id"); w.string(merchantId)
        writeFields(counts, to: &w)
        w.endObject()
    }

    static func writeCounts(_ c: MerchantRiskCounts, to w: inout JSONWriter) {
        w.beginObject()
        writeFields(c, to: &w)
        w.endObject()
    }

    static func writeFields(_ c: MerchantRiskCounts, to w: inout JSONWriter) {
        w.key("tx_1d"); w.int(c.transactions1d)
        w.key("tx_7d"); w.int(c.transactions7d)
        w.key("tx_30d"); w.int(c.transactions30d)
        w.key("fraud_1d"); w.int(c.frauds1d)
        w.key("fraud_7d"); w.int(c.frauds7d)
        w.key("fraud_30d"); w.int(c.frauds30d)
    }

    /// Calls `body` with every line of the file, header first (each without its newline).
    public func forEachLine(_ body: ([UInt8]) throws -> Void) rethrows {
        try body(headerLine())
        var w = JSONWriter(capacity: 160)
        for (merchantId, counts) in merchants {
            Self.merchantLine(merchantId, counts, into: &w)
            try body(w.bytes)
        }
    }
}
