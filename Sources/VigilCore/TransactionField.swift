/// The fields of a contract v1 transaction, in the contract's order, which is
/// also the order in which their problems are reported.
enum TransactionField: Int, CaseIterable {
    case schemaVersion, transactionId, cardId, amountMinor, currency, merchantId
    case mcc, country, channel, lat, lon, eventTimeMs

    /// The name on the wire, also used in reject reasons.
    var name: String {
        switch self {
        case .schemaVersion: "schema_version"
        case .transactionId: "transaction_id"
        case .cardId: "card_id"
        case .amountMinor: "amount_minor"
        case .currency: "currency"
        case .merchantId: "merchant_id"
        case .mcc: "mcc"
        case .country: "country"
        case .channel: "channel"
        case .lat: "lat"
        case .lon: "lon"
        case .eventTimeMs: "event_time_ms"
        }
    }

    /// The field whose wire name is these bytes, or nil for an unknown field.
    @inline(__always)
    static func named(_ p: UnsafePointer<UInt8>, count: Int) -> TransactionField? {
        switch count {
        case 3:
            if equals(p, "mcc") { return .mcc }
            if equals(p, "lat") { return .lat }
            if equals(p, "lon") { return .lon }
        case 7:
            if equals(p, "card_id") { return .cardId }
            if equals(p, "country") { return .country }
            if equals(p, "channel") { return .channel }
        case 8:
            if equals(p, "currency") { return .currency }
        case 11:
            if equals(p, "merchant_id") { return .merchantId }
        case 12:
            if equals(p, "amount_minor") { return .amountMinor }
        case 13:
            if equals(p, "event_time_ms") { return .eventTimeMs }
        case 14:
            if equals(p, "schema_version") { return .schemaVersion }
            if equals(p, "transaction_id") { return .transactionId }
        default:
            break
        }
        return nil
    }

    /// Compares `name.utf8CodeUnitCount` bytes at `p` with `name`.
    @inline(__always)
    private static func equals(_ p: UnsafePointer<UInt8>, _ name: StaticString) -> Bool {
        let n = name.utf8Start
        for i in 0..<name.utf8CodeUnitCount where p[i] != n[i] {
            return false
        }
        return true
    }
}

/// The JSON type of a field's value, as the scanner saw it.
enum JSONValueKind: UInt8 {
    case absent, null, string, escapedString, integer, number, bool, object, array
}

/// Where a known field's value lies in the message (its first occurrence).
struct FieldValue {
    var kind: JSONValueKind = .absent
    var start = 0
    var end = 0
    var occurrences: UInt8 = 0

    /// Absent or JSON null.
    var isMissing: Bool { kind == .absent || kind == .null }
}

/// The known fields' values of one message, filled in one scan.
struct TransactionFieldValues {
    var schemaVersion = FieldValue()
    var transactionId = FieldValue()
    var cardId = FieldValue()
    var amountMinor = FieldValue()
    var currency = FieldValue()
    var merchantId = FieldValue()
    var mcc = FieldValue()
    var country = FieldValue()
    var channel = FieldValue()
    var lat = FieldValue()
    var lon = FieldValue()
    var eventTimeMs = FieldValue()

    /// Notes one occurrence of `field`; only the first one's value is kept.
    @inline(__always)
    mutating func record(_ field: TransactionField, _ kind: JSONValueKind, start: Int, end: Int) {
        switch field {
        case .schemaVersion: Self.note(&schemaVersion, kind, start, end)
        case .transactionId: Self.note(&transactionId, kind, start, end)
        case .cardId: Self.note(&cardId, kind, start, end)
        case .amountMinor: Self.note(&amountMinor, kind, start, end)
        case .currency: Self.note(&currency, kind, start, end)
        case .merchantId: Self.note(&merchantId, kind, start, end)
        case .mcc: Self.note(&mcc, kind, start, end)
        case .country: Self.note(&country, kind, start, end)
        case .channel: Self.note(&channel, kind, start, end)
        case .lat: Self.note(&lat, kind, start, end)
        case .lon: Self.note(&lon, kind, start, end)
        case .eventTimeMs: Self.note(&eventTimeMs, kind, start, end)
        }
    }

    @inline(__always)
    private static func note(_ value: inout FieldValue, _ kind: JSONValueKind, _ start: Int, _ end: Int) {
        if value.occurrences == 0 {
            value = FieldValue(kind: kind, start: start, end: end, occurrences: 1)
        } else {
            value.occurrences = 2
        }
    }
}
