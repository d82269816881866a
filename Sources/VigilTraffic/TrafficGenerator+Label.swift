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

    /// The label the fraud team reports for `truth` at `truth.reportedAtMs`; nil if it is never reported.
    public static func labelJSON(for truth: GroundTruth) -> [UInt8]? {
        truth.reportedAtMs.map { labelJSON(for: truth, reportedAtMs: $0) }
    }

    /// One line of a ground-truth file (`vigil train --truth`): `{"transaction_id":"...","pattern":"card_testing"}`,
    /// the pattern `none` for a genuine transaction.
    public static func truthJSON(for truth: GroundTruth) -> [UInt8] {
        JSONByteWriter.bytes(capacity: 64 + 6 * truth.transactionId.utf8.count) { writer in
            writer.raw("{\"transaction_id\":")
            writer.string(truth.transactionId.utf8)
            writer.raw(",\"pattern\":")
            writer.string((truth.pattern?.rawValue ?? "none").utf8)
            writer.byte(UInt8(ascii: "}"))
        }
    }
}
