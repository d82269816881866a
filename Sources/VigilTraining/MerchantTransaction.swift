/// What the merchant-risk job needs of a transaction-bearing history record: a `transactions` message (schema
/// version 1) or a feature record of catalog v2 (schema version 2), both of which carry `transaction_id`,
/// `merchant_id` and `event_time_ms`. Everything else in the record is ignored.
public struct MerchantTransaction: Sendable, Equatable {
    /// 64-bit hash of `transaction_id` (see `MerchantTransaction.idHash`).
    public var idHash: UInt64
    public var merchantId: String
    public var eventTimeMs: Int64

    public init(idHash: UInt64, merchantId: String, eventTimeMs: Int64) {
        self.idHash = idHash
        self.merchantId = merchantId
        self.eventTimeMs = eventTimeMs
    }

    public init(transactionId: String, merchantId: String, eventTimeMs: Int64) {
        self.init(idHash: Self.idHash(transactionId), merchantId: merchantId, eventTimeMs: eventTimeMs)
    }

    /// A transaction id reduced to 64 bits: both halves of its `TransactionKey` folded together. Among 100 million
    /// ids a collision has a probability around 3 * 10^-4; a collision makes two transactions count as one.
    public static func idHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let key = TransactionKey(bytes)
        return key.high ^ key.low
    }

    public static func idHash(_ id: String) -> UInt64 {
        var id = id
        return id.withUTF8 { idHash(UnsafeRawBufferPointer($0)) }
    }

    /// Parses a transaction-bearing record. `schema_version` must be 1 or 2; `transaction_id` and `merchant_id` must
    /// be strings of 1-64 bytes and `event_time_ms` an integer. A feature record of schema version 1 has no
    /// `merchant_id` and is refused with `missing merchant_id`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RecordError) -> MerchantTransaction {
        var scanner = JSONLineScanner(bytes)
        var schema: Int64?
        var id: JSONLineScanner.StringToken?
        var merchant: JSONLineScanner.StringToken?
        var time: Int64?
        var problem: RecordError?
        do {
            try scanner.forEachMember { (s: inout JSONLineScanner, key: JSONLineScanner.StringToken) throws(JSONLineScanner.Failure) in
                if s.token(key, equals: "transaction_id") {
                    guard s.peek() == UInt8(ascii: "\"") else {
                        problem = problem ?? .wrongType(field: "transaction_id")
                        return try s.skipValue()
                    }
                    id = try s.scanString()
                } else if s.token(key, equals: "merchant_id") {
                    guard s.peek() == UInt8(ascii: "\"") else {
                        problem = problem ?? .wrongType(field: "merchant_id")
                        return try s.skipValue()
                    }
                    merchant = try s.scanString()
                } else if s.token(key, equals: "event_time_ms") {
                    guard s.peek() == UInt8(ascii: "-") || JSONLineScanner.isDigit(s.peek()) else {
                        problem = problem ?? .wrongType(field: "event_time_ms")
                        return try s.skipValue()
                    }
                    time = try s.scanInt64()
                    if time == nil { problem = problem ?? .badValue(field: "event_time_ms", "is not an integer") }
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
        guard let merchant else { throw .missingField("merchant_id") }
        guard let time else { throw .missingField("event_time_ms") }
        let idHash: UInt64
        if id.hasEscapes {
            let unescaped = scanner.bytes(of: id)
            guard (1...64).contains(unescaped.count) else { throw .badValue(field: "transaction_id", "is not 1-64 bytes") }
            idHash = unescaped.withUnsafeBytes { Self.idHash($0) }
        } else {
            guard (1...64).contains(id.end - id.start) else { throw .badValue(field: "transaction_id", "is not 1-64 bytes") }
            idHash = Self.idHash(UnsafeRawBufferPointer(start: scanner.base + id.start, count: id.end - id.start))
        }
        let merchantId: String
        if merchant.hasEscapes {
            merchantId = String(decoding: scanner.bytes(of: merchant), as: UTF8.self)
        } else {
            merchantId = String(
                decoding: UnsafeBufferPointer(start: scanner.base + merchant.start, count: merchant.end - merchant.start),
                as: UTF8.self)
        }
        guard (1...64).contains(merchantId.utf8.count) else { throw .badValue(field: "merchant_id", "is not 1-64 bytes") }
        return MerchantTransaction(idHash: idHash, merchantId: merchantId, eventTimeMs: time)
    }

    public static func parse(_ bytes: [UInt8]) throws(RecordError) -> MerchantTransaction {
        let result: Result<MerchantTransaction, RecordError> = bytes.withUnsafeBytes { buffer in
            do throws(RecordError) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
