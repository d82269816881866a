/// Why a transaction message was not accepted.
///
/// `code` is short and machine-friendly; it is what goes into the `vigil.error`
/// header of the message on `fraud.dlq`. Codes are either a bare word
/// (`too_large`, `invalid_utf8`, `invalid_json`, `nesting_too_deep`,
/// `not_an_object`, `unknown_schema_version`, `lat_lon_pair`, `key_mismatch`)
/// or a kind and the contract's field name (`missing_field:card_id`,
/// `duplicate_field:mcc`, `wrong_type:amount_minor`, `invalid_value:currency`,
/// `out_of_range:lat`).
///
/// Every code comes from `TransactionDecoder`; `out_of_range:event_time_ms` also
/// comes from `ScoringStep`, for a transaction dated more than
/// `FeatureConfig.maxFutureMs` after its reference time (the decoder gives it for a
/// negative event time).
public struct RejectReason: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var code: String

    public init(code: String) {
        self.code = code
    }

    public var description: String { code }
}

extension RejectReason {
    /// The message is larger than ``TransactionDecoder/maxMessageBytes``.
    public static let tooLarge = RejectReason(code: "too_large")
    /// The message is not valid UTF-8.
    public static let invalidUTF8 = RejectReason(code: "invalid_utf8")
    /// The message is not one JSON value (syntax error, lone surrogate, trailing bytes).
    public static let invalidJSON = RejectReason(code: "invalid_json")
    /// Objects and arrays nest deeper than ``TransactionDecoder/maxNestingDepth``.
    public static let nestingTooDeep = RejectReason(code: "nesting_too_deep")
    /// The message is valid JSON but not an object.
    public static let notAnObject = RejectReason(code: "not_an_object")
    /// `schema_version` is an integer other than 1.
    public static let unknownSchemaVersion = RejectReason(code: "unknown_schema_version")
    /// Exactly one of `lat` and `lon` is present.
    public static let latLonPair = RejectReason(code: "lat_lon_pair")
    /// The Kafka key is absent or differs from `card_id`.
    public static let keyMismatch = RejectReason(code: "key_mismatch")

    /// The reasons that name no field, each reported from the start (at 0) by `vigil_dlq_total{reason}`.
    public static let withoutField: [RejectReason] = [
        tooLarge, invalidUTF8, invalidJSON, nestingTooDeep, notAnObject, unknownSchemaVersion, latLonPair, keyMismatch,
    ]

    /// A field the contract knows appears more than once.
    public static func duplicateField(_ field: String) -> RejectReason {
        RejectReason(code: "duplicate_field:" + field)
    }

    /// A required field is absent or `null`.
    public static func missingField(_ field: String) -> RejectReason {
        RejectReason(code: "missing_field:" + field)
    }

    /// A known field holds the wrong JSON type (for integer fields: a number
    /// written with a fraction or an exponent).
    public static func wrongType(_ field: String) -> RejectReason {
        RejectReason(code: "wrong_type:" + field)
    }

    /// A string field breaks its rule (length, code list, format).
    public static func invalidValue(_ field: String) -> RejectReason {
        RejectReason(code: "invalid_value:" + field)
    }

    /// A numeric field is outside its allowed range.
    public static func outOfRange(_ field: String) -> RejectReason {
        RejectReason(code: "out_of_range:" + field)
    }
}
