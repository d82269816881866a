extension TrafficGenerator {
    /// The label for a generated transaction, as the contract's `fraud.labels` JSON:
    /// `{"schema_version":1,"transaction_id":"...","is_fraud":true,"reported_at_ms":...}`.
    public static func labelJSON(for truth: GroundTruth, reportedAtMs: Int64) -> [UInt8] {
        JSONByteWriter.bytes(capacity: 96 + 6 * truth.transactionId.utf8.count) { writer in
            writer.raw("{\"schema_version\":1,\"transaction_id\":")
            writer.string(truth.transactionId.utf8)
            writer.raw(truth.isFraud ? ",\"is_fraud\":true,\"reported_at_ms\":" : ",\"is_fraud\":false,\"reported_at_ms\":")
            writer.integer(reportedAtMs)
            writer.byte(UInt8(ascii: "}"))
        }
    }
}
