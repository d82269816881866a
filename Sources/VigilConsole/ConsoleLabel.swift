import VigilCore

/// A label written by the console: the contract's label schema version 2 (document 1.5), keyed by `transaction_id`.
public struct ConsoleLabel: Sendable, Equatable {
    public var transactionId: String
    public var isFraud: Bool
    public var reportedAtMs: Int64
    /// The analyst's name, as the console's login knows it.
    public var reportedBy: String
    /// The click that produced it (client-generated), so a retried click is recognised.
    public var clickId: String

    public static let source = "console"
    public static let schemaVersion = 2

    public init(transactionId: String, isFraud: Bool, reportedAtMs: Int64, reportedBy: String, clickId: String) {
        self.transactionId = transactionId
        self.isFraud = isFraud
        self.reportedAtMs = reportedAtMs
        self.reportedBy = reportedBy
        self.clickId = clickId
    }

    /// The message value, fields in the order of the contract's example.
    public var json: [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("schema_version"); writer.int(Int64(Self.schemaVersion))
        writer.key("transaction_id"); writer.string(transactionId)
        writer.key("is_fraud"); writer.bool(isFraud)
        writer.key("reported_at_ms"); writer.int(reportedAtMs)
        writer.key("reported_by"); writer.string(reportedBy)
        writer.key("source"); writer.string(Self.source)
        writer.key("click_id"); writer.string(clickId)
        writer.endObject()
        return writer.bytes
    }

    /// The Kafka key: the transaction id (contract, "Topics").
    public var key: [UInt8] { Array(transactionId.utf8) }

    /// What the console shows once it is delivered.
    public var worked: WorkedLabel {
        WorkedLabel(isFraud: isFraud, reportedAtMs: reportedAtMs, reportedBy: reportedBy, source: Self.source)
    }
}
