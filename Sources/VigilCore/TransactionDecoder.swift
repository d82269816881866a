/// Decodes and validates messages of the `transactions` topic (contract v1).
///
/// One pass over the message bytes, no intermediate objects: the only
/// allocations are the three identifier strings of an accepted transaction
/// (none at all for identifiers of up to 15 bytes, which Swift stores inline).
///
/// When a message breaks several rules, the first problem in this order is
/// reported, so the same message always gets the same reason:
///
/// 1. `too_large`: more than ``maxMessageBytes`` bytes (checked before anything else).
/// 2. `invalid_utf8`: the whole message is validated as UTF-8 before parsing.
/// 3. Syntax, in document order: `invalid_json` (including an empty message,
///    a byte order mark, lone surrogate escapes and trailing bytes after the
///    value) or `nesting_too_deep` (objects and arrays deeper than
///    ``maxNestingDepth``, the message's own object counting as 1); then
///    `not_an_object` if the message is valid JSON but not an object. The
///    whole message is checked here, unknown fields included.
/// 4. Fields in the contract's order: `schema_version`, `transaction_id`,
///    `card_id`, `amount_minor`, `currency`, `merchant_id`, `mcc`, `country`,
///    `channel`, `lat`, `lon`, then `lat_lon_pair`, then `event_time_ms`. For
///    each field: `duplicate_field:F`, `missing_field:F` (absent or `null`),
///    `wrong_type:F`, then its own rule: `unknown_schema_version`,
///    `invalid_value:F` for string rules, `out_of_range:F` for number ranges.
/// 5. `key_mismatch`: the Kafka key is absent or not byte-equal to `card_id`.
///
/// Integer fields (`schema_version`, `amount_minor`, `event_time_ms`) must be
/// written as JSON integers: `12999.0` or `1.3e4` is `wrong_type`. An integer
/// that does not fit in 64 bits is `out_of_range` (`unknown_schema_version`
/// for `schema_version`); `-0` is 0.
public enum TransactionDecoder {
    /// Messages larger than this (16 KiB) are rejected unread.
    public static let maxMessageBytes = 16 * 1024
    /// The deepest nesting of objects and arrays accepted, the message's own object counting as 1.
    public static let maxNestingDepth = JSONScanner.maxDepth
    /// The longest `transaction_id`, `card_id` and `merchant_id`, in UTF-8 bytes after unescaping.
    public static let maxIdentifierBytes = 64
    /// The largest `amount_minor` (10^12).
    public static let maxAmountMinor: Int64 = 1_000_000_000_000

    /// Decodes and validates one Kafka message against contract v1. `key` is
    /// the Kafka message key (nil if absent).
    public static func decode(
        value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?
    ) -> Result<Transaction, RejectReason> {
        decode(value: value, key: key, keyIsCardId: false)
    }

    /// Decodes a message value archived without its key (a JSON-lines archive of `transactions`), as if it had been
    /// published keyed by its `card_id` as the contract asks: every other rule applies.
    public static func decodeArchived(value: UnsafeRawBufferPointer) -> Result<Transaction, RejectReason> {
        decode(value: value, key: nil, keyIsCardId: true)
    }

    static func decode(
        value: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer?, keyIsCardId: Bool
    ) -> Result<Transaction, RejectReason> {
        guard value.count <= maxMessageBytes else { return .failure(.tooLarge) }
        guard value.count > 0, let base = value.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return .failure(.invalidJSON)
        }
        guard UTF8Validation.isValid(base, count: value.count) else { return .failure(.invalidUTF8) }

        var fields = TransactionFieldValues()
        var scanner = JSONScanner(base: base, count: value.count)
        do throws(JSONScanner.Failure) {
            guard try scanDocument(&scanner, into: &fields) else { return .failure(.notAnObject) }
        } catch {
            return .failure(error == .nestingTooDeep ? .nestingTooDeep : .invalidJSON)
        }
        do throws(RejectReason) {
            let reader = FieldReader(base: base)
            return .success(try reader.transaction(from: fields, key: key, keyIsCardId: keyIsCardId))
        } catch {
            return .failure(error)
        }
    }

    /// Decodes and validates one Kafka message against contract v1. `key` is
    /// the Kafka message key (nil if absent).
    public static func decode(value: [UInt8], key: [UInt8]?) -> Result<Transaction, RejectReason> {
        value.withUnsafeBytes { valueBytes in
            guard let key else { return decode(value: valueBytes, key: nil) }
            return key.withUnsafeBytes { decode(value: valueBytes, key: $0) }
        }
    }

    /// Scans the whole message, noting where the known fields' values are.
    /// Returns false if the message is a valid JSON value other than an object.
    static func scanDocument(
        _ s: inout JSONScanner, into fields: inout TransactionFieldValues
    ) throws(JSONScanner.Failure) -> Bool {
        s.skipWhitespace()
        guard s.peek() == JSONByte.openBrace else {
            try s.skipValue(depth: 0)
            s.skipWhitespace()
            guard s.isAtEnd else { throw .invalidJSON }
            return false
        }
        s.position &+= 1
        s.skipWhitespace()
        if s.peek() == JSONByte.closeBrace {
            s.position &+= 1
        } else {
            while true {
                guard s.peek() == JSONByte.quote else { throw .invalidJSON }
                let name = try s.scanString()
                s.skipWhitespace()
                try s.expect(JSONByte.colon)
                s.skipWhitespace()
                let field = fieldNamed(name, in: s.base)
                var start = s.position
                var end = start
                let kind: JSONValueKind
                switch s.peek() {
                case JSONByte.quote:
                    let token = try s.scanString()
                    kind = token.hasEscapes ? .escapedString : .string
                    (start, end) = (token.start, token.end)
                case JSONByte.minus, JSONByte.zero, UInt8(ascii: "1")...UInt8(ascii: "9"):
                    kind = try s.scanNumber().isInteger ? .integer : .number
                    end = s.position
                case JSONByte.openBrace:
                    try s.skipValue(depth: 1)
                    kind = .object
                case JSONByte.openBracket:
                    try s.skipValue(depth: 1)
                    kind = .array
                default:
                    kind = try s.scanLiteral() == JSONByte.letterN ? .null : .bool
                }
                if let field { fields.record(field, kind, start: start, end: end) }
                s.skipWhitespace()
                let separator = s.peek()
                if separator == JSONByte.comma {
                    s.position &+= 1
                    s.skipWhitespace()
                    continue
                }
                guard separator == JSONByte.closeBrace else { throw .invalidJSON }
                s.position &+= 1
                break
            }
        }
        s.skipWhitespace()
        guard s.isAtEnd else { throw .invalidJSON }
        return true
    }

    /// The known field a member name denotes, escapes resolved (`"card\u005Fid"` is `card_id`).
    @inline(__always)
    private static func fieldNamed(
        _ name: JSONScanner.StringToken, in base: UnsafePointer<UInt8>
    ) -> TransactionField? {
        guard name.hasEscapes else {
            return TransactionField.named(base + name.start, count: name.end &- name.start)
        }
        return escapedFieldNamed(name, in: base)
    }

    @inline(never)
    private static func escapedFieldNamed(
        _ name: JSONScanner.StringToken, in base: UnsafePointer<UInt8>
    ) -> TransactionField? {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer in
            let out = buffer.baseAddress!
            guard let count = JSONScanner.unescape(base, from: name.start, to: name.end, into: out, capacity: 16) else {
                return nil
            }
            return TransactionField.named(out, count: count)
        }
    }
}
