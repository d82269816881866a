/// One `fraud.labels` message: the outcome of a transaction as the chargeback or case systems know it.
public struct LabelRecord: Sendable, Equatable {
    public var transactionId: String
    public var isFraud: Bool
    /// When the outcome became known; nil if the message has none.
    public var reportedAtMs: Int64?
    /// Who reported it (schema version 2: the analyst's name, from `vigil console`); nil for schema version 1.
    public var reportedBy: String?
    /// Which system reported it (schema version 2, e.g. `"console"`); nil for schema version 1.
    public var source: String?

    public init(transactionId: String, isFraud: Bool, reportedAtMs: Int64?, reportedBy: String? = nil, source: String? = nil) {
        self.transactionId = transactionId
        self.isFraud = isFraud
        self.reportedAtMs = reportedAtMs
        self.reportedBy = reportedBy
        self.source = source
    }

    /// Parses a label of the contract's schema version 1 or 2 (version 2 adds `reported_by` and `source`, both
    /// required there, and requires `reported_at_ms`); unknown fields are ignored.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RecordError) -> LabelRecord {
        var scanner = JSONLineScanner(bytes)
        var schema: Int64?
        var id: [UInt8]?
        var isFraud: Bool?
        var reported: Int64?
        var reportedBy: [UInt8]?
        var source: [UInt8]?
        var problem: RecordError?
        var schema2Problem: RecordError?
        do {
            try scanner.forEachMember { (s: inout JSONLineScanner, key: JSONLineScanner.StringToken) throws(JSONLineScanner.Failure) in
                if s.token(key, equals: "transaction_id") {
                    guard s.peek() == UInt8(ascii: "\"") else {
                        problem = problem ?? .wrongType(field: "transaction_id")
                        return try s.skipValue()
                    }
                    id = s.bytes(of: try s.scanString())
                } else if s.token(key, equals: "is_fraud") {
                    let first = s.peek()
                    guard first == UInt8(ascii: "t") || first == UInt8(ascii: "f") else {
                        problem = problem ?? .wrongType(field: "is_fraud")
                        return try s.skipValue()
                    }
                    isFraud = try s.scanLiteral()
                } else if s.token(key, equals: "reported_at_ms") {
                    guard s.peek() == UInt8(ascii: "-") || JSONLineScanner.isDigit(s.peek()) else { return try s.skipValue() }
                    reported = try s.scanInt64()
                } else if s.token(key, equals: "reported_by") || s.token(key, equals: "source") {
                    let field = s.token(key, equals: "source") ? "source" : "reported_by"
                    guard s.peek() == UInt8(ascii: "\"") else {
                        // A schema-2 field: in a schema-1 label it is an unknown field, ignored whatever it holds.
                        schema2Problem = schema2Problem ?? .wrongType(field: field)
                        return try s.skipValue()
                    }
                    let value = s.bytes(of: try s.scanString())
                    if field == "source" { source = value } else { reportedBy = value }
                } else if s.token(key, equals: "schema_version") {
                    schema = try s.scanVersion()
                } else {
                    try s.skipValue()
                }
            }
            guard scanner.atEndIgnoringWhitespace() else { throw JSONLineScanner.Failure.invalid }
        } catch {
            throw .invalidJSON
        }
        guard let schema else { throw .missingField("schema_version") }
        guard schema == 1 || schema == 2 else { throw .unsupportedSchemaVersion }
        if let problem { throw problem }
        guard let id else { throw .missingField("transaction_id") }
        guard !id.isEmpty else { throw .badValue(field: "transaction_id", "is empty") }
        guard let isFraud else { throw .missingField("is_fraud") }
        guard schema == 2 else {
            return LabelRecord(transactionId: String(decoding: id, as: UTF8.self), isFraud: isFraud, reportedAtMs: reported)
        }
        if let schema2Problem { throw schema2Problem }
        guard reported != nil else { throw .missingField("reported_at_ms") }
        guard let reportedBy else { throw .missingField("reported_by") }
        guard !reportedBy.isEmpty else { throw .badValue(field: "reported_by", "is empty") }
        guard let source else { throw .missingField("source") }
        return LabelRecord(
            transactionId: String(decoding: id, as: UTF8.self), isFraud: isFraud, reportedAtMs: reported,
            reportedBy: String(decoding: reportedBy, as: UTF8.self), source: String(decoding: source, as: UTF8.self))
    }

    public static func parse(_ bytes: [UInt8]) throws(RecordError) -> LabelRecord {
        let result: Result<LabelRecord, RecordError> = bytes.withUnsafeBytes { buffer in
            do throws(RecordError) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
