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

    /// This field's reject reasons, built once so that rejecting allocates nothing.
    var reasons: FieldRejectReasons { FieldRejectReasons.table[rawValue] }

    /// The field whose wire name is these bytes, or nil for an unknown field.
    ///
    /// Compares whole words: the constants are the names' bytes read as
    /// little-endian integers (a head and an overlapping tail word), checked
    /// against `named` for every field by the tests.
    @inline(__always)
    static func named(_ p: UnsafePointer<UInt8>, count: Int) -> TransactionField? {
        let raw = UnsafeRawPointer(p)
        switch count {
        case 3:
            let head = UInt16(littleEndian: raw.loadUnaligned(as: UInt16.self))
            let last = p[2]
            if head == 0x636D && last == 0x63 { return .mcc }  // "mc" "c"
            if head == 0x616C && last == 0x74 { return .lat }  // "la" "t"
            if head == 0x6F6C && last == 0x6E { return .lon }  // "lo" "n"
        case 7:
            let head = UInt32(littleEndian: raw.loadUnaligned(as: UInt32.self))
            let tail = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 3, as: UInt32.self))
            if head == 0x6472_6163 && tail == 0x6469_5F64 { return .cardId }  // "card" "d_id"
            if head == 0x6E75_6F63 && tail == 0x7972_746E { return .country }  // "coun" "ntry"
            if head == 0x6E61_6863 && tail == 0x6C65_6E6E { return .channel }  // "chan" "nnel"
        case 8...14:
            let head = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            let tail = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self))
            switch (count, head, tail) {
            case (8, 0x7963_6E65_7272_7563, 0x7963_6E65_7272_7563): return .currency  // "currency"
            case (11, 0x746E_6168_6372_656D, 0x6469_5F74_6E61_6863): return .merchantId  // "merchant" "chant_id"
            case (12, 0x6D5F_746E_756F_6D61, 0x726F_6E69_6D5F_746E): return .amountMinor  // "amount_m" "nt_minor"
            case (13, 0x6974_5F74_6E65_7665, 0x736D_5F65_6D69_745F): return .eventTimeMs  // "event_ti" "_time_ms"
            case (14, 0x765F_616D_6568_6373, 0x6E6F_6973_7265_765F): return .schemaVersion  // "schema_v" "_version"
            case (14, 0x7463_6173_6E61_7274, 0x6469_5F6E_6F69_7463): return .transactionId  // "transact" "ction_id"
            default: return nil
            }
        default:
            break
        }
        return nil
    }
}

/// The reject reasons that name one field.
struct FieldRejectReasons: Sendable {
    let duplicate: RejectReason
    let missing: RejectReason
    let wrongType: RejectReason
    let invalidValue: RejectReason
    let outOfRange: RejectReason

    static let table: [FieldRejectReasons] = TransactionField.allCases.map { field in
        FieldRejectReasons(
            duplicate: .duplicateField(field.name), missing: .missingField(field.name),
            wrongType: .wrongType(field.name), invalidValue: .invalidValue(field.name),
            outOfRange: .outOfRange(field.name))
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
