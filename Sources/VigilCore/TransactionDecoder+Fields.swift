/// Applies the contract's field rules to the values one scan located, in
/// the documented order, and builds the transaction.
struct FieldReader {
    let base: UnsafePointer<UInt8>

    /// `keyIsCardId`: the message has no key of its own (a line of an archive of message values) and stands for
    /// one published under its card_id, so there is no key to compare.
    func transaction(
        from fields: TransactionFieldValues, key: UnsafeRawBufferPointer?, keyIsCardId: Bool = false
    ) throws(RejectReason) -> Transaction {
        let schemaVersion = try integer(fields.schemaVersion, .schemaVersion)
        guard schemaVersion == 1 else { throw .unknownSchemaVersion }

        let transactionId = try identifier(fields.transactionId, .transactionId)
        let cardId = try identifier(fields.cardId, .cardId)

        guard let amountMinor = try integer(fields.amountMinor, .amountMinor),
            amountMinor > 0, amountMinor <= TransactionDecoder.maxAmountMinor
        else { throw TransactionField.amountMinor.reasons.outOfRange }

        let currencyValue = try string(fields.currency, .currency)
        let currency = withBytes(of: currencyValue, limit: 3) { bytes in
            bytes.flatMap { $0.count == 3 ? CurrencyCode.lookup($0[0], $0[1], $0[2]) : nil }
        }
        guard let currency else { throw TransactionField.currency.reasons.invalidValue }

        let merchantId = try identifier(fields.merchantId, .merchantId)

        let mccValue = try string(fields.mcc, .mcc)
        let mcc = withBytes(of: mccValue, limit: 4) { bytes in bytes.flatMap(Self.merchantCategory) }
        guard let mcc else { throw TransactionField.mcc.reasons.invalidValue }

        let countryValue = try string(fields.country, .country)
        let country = withBytes(of: countryValue, limit: 2) { bytes in
            bytes.flatMap { $0.count == 2 ? CountryCode.lookup($0[0], $0[1]) : nil }
        }
        guard let country else { throw TransactionField.country.reasons.invalidValue }

        let channelValue = try string(fields.channel, .channel)
        let channel = withBytes(of: channelValue, limit: 4) { bytes in bytes.flatMap(Self.channel) }
        guard let channel else { throw TransactionField.channel.reasons.invalidValue }

        let lat = try coordinate(fields.lat, .lat, limit: 90)
        let lon = try coordinate(fields.lon, .lon, limit: 180)
        let location: GeoPoint?
        switch (lat, lon) {
        case let (lat?, lon?): location = GeoPoint(lat: lat, lon: lon)
        case (nil, nil): location = nil
        default: throw .latLonPair
        }

        guard let eventTimeMs = try integer(fields.eventTimeMs, .eventTimeMs), eventTimeMs >= 0 else {
            throw TransactionField.eventTimeMs.reasons.outOfRange
        }

        if !keyIsCardId {
            guard let key, Self.bytes(of: cardId, equal: key) else { throw .keyMismatch }
        }

        return Transaction(
            transactionId: transactionId, cardId: cardId, amountMinor: amountMinor, currency: currency,
            merchantId: merchantId, mcc: mcc, country: country, channel: channel,
            location: location, eventTimeMs: eventTimeMs)
    }

    // MARK: Presence and type

    /// The value of a required field: present once and not null.
    @inline(__always)
    private func required(_ value: FieldValue, _ field: TransactionField) throws(RejectReason) -> FieldValue {
        guard value.occurrences < 2 else { throw field.reasons.duplicate }
        guard !value.isMissing else { throw field.reasons.missing }
        return value
    }

    /// A required string field's value.
    @inline(__always)
    private func string(_ value: FieldValue, _ field: TransactionField) throws(RejectReason) -> FieldValue {
        let value = try required(value, field)
        guard value.kind == .string || value.kind == .escapedString else { throw field.reasons.wrongType }
        return value
    }

    /// A required integer field's value; nil if it does not fit in `Int64`.
    @inline(__always)
    private func integer(_ value: FieldValue, _ field: TransactionField) throws(RejectReason) -> Int64? {
        let value = try required(value, field)
        guard value.kind == .integer else { throw field.reasons.wrongType }
        return JSONNumber.int64(base, from: value.start, to: value.end)
    }

    /// An optional coordinate: nil if absent or null, else a finite number within ±`limit`.
    private func coordinate(
        _ value: FieldValue, _ field: TransactionField, limit: Double
    ) throws(RejectReason) -> Double? {
        guard value.occurrences < 2 else { throw field.reasons.duplicate }
        guard !value.isMissing else { return nil }
        guard value.kind == .integer || value.kind == .number else { throw field.reasons.wrongType }
        let number = JSONNumber.double(base, from: value.start, to: value.end)
        // Written so that NaN fails too.
        guard number >= -limit && number <= limit else { throw field.reasons.outOfRange }
        return number
    }

    // MARK: String rules

    /// A 1-64 byte identifier, as a String.
    private func identifier(_ value: FieldValue, _ field: TransactionField) throws(RejectReason) -> String {
        let value = try string(value, field)
        let text = withBytes(of: value, limit: TransactionDecoder.maxIdentifierBytes) { bytes -> String? in
            guard let bytes, !bytes.isEmpty else { return nil }
            return String(unsafeUninitializedCapacity: bytes.count) { buffer in
                buffer.baseAddress!.initialize(from: bytes.baseAddress!, count: bytes.count)
                return bytes.count
            }
        }
        guard let text else { throw field.reasons.invalidValue }
        return text
    }

    /// Calls `body` with a string value's unescaped bytes, or with nil if they
    /// are more than `limit`.
    @inline(__always)
    private func withBytes<R>(of value: FieldValue, limit: Int, _ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
        let length = value.end &- value.start
        if value.kind == .string {
            return body(length <= limit ? UnsafeBufferPointer(start: base + value.start, count: length) : nil)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: limit) { buffer in
            let out = buffer.baseAddress!
            let count = JSONScanner.unescape(base, from: value.start, to: value.end, into: out, capacity: limit)
            return body(count.map { UnsafeBufferPointer(start: out, count: $0) })
        }
    }

    /// Exactly four ASCII digits, as a number.
    private static func merchantCategory(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16? {
        guard bytes.count == 4 else { return nil }
        var value: UInt16 = 0
        for byte in bytes {
            guard JSONByte.isDigit(byte) else { return nil }
            value = value &* 10 &+ UInt16(byte &- JSONByte.zero)
        }
        return value
    }

    private static func channel(_ bytes: UnsafeBufferPointer<UInt8>) -> Channel? {
        switch bytes.count {
        case 3 where bytes[0] == UInt8(ascii: "p") && bytes[1] == UInt8(ascii: "o") && bytes[2] == UInt8(ascii: "s"):
            .pos
        case 3 where bytes[0] == UInt8(ascii: "a") && bytes[1] == UInt8(ascii: "t") && bytes[2] == UInt8(ascii: "m"):
            .atm
        case 4 where bytes[0] == UInt8(ascii: "e") && bytes[1] == UInt8(ascii: "c") && bytes[2] == UInt8(ascii: "o")
            && bytes[3] == UInt8(ascii: "m"):
            .ecom
        default:
            nil
        }
    }

    private static func bytes(of string: String, equal key: UnsafeRawBufferPointer) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            guard utf8.count == key.count else { return false }
            for i in 0..<utf8.count where utf8[i] != key[i] {
                return false
            }
            return true
        }
    }
}
