/// A deliberately plain reference implementation of contract v1 decoding, used
/// by the fuzz target as a differential oracle for ``TransactionDecoder``.
///
/// It shares no code with the decoder under test: arrays instead of pointers,
/// a recursive descent parser, the standard library's UTF-8 validation
/// (`String(validating:)`) and number parsing (`Int64(_:)`, `Double(_:)`).
/// Only the ISO code tables are taken from VigilCore (`CurrencyCode(_:)`,
/// `CountryCode(_:)` from a `String`), because their contents are tested on
/// their own (ISOCodesTests) and re-typing them here would test nothing.
///
/// It implements the reject order documented on `TransactionDecoder`:
/// too_large, invalid_utf8, syntax in document order (invalid_json /
/// nesting_too_deep), not_an_object, then the fields in the contract's order
/// (duplicate, missing, wrong type, own rule), lat_lon_pair, event_time_ms,
/// and key_mismatch last.
enum Reference {
    static let maxMessageBytes = 16 * 1024
    static let maxDepth = 32
    static let maxIdentifierBytes = 64
    static let maxAmountMinor: Int64 = 1_000_000_000_000

    /// An accepted transaction, as plain values.
    struct Tx: Equatable, CustomStringConvertible {
        var transactionId: [UInt8]
        var cardId: [UInt8]
        var amountMinor: Int64
        var currency: [UInt8]
        var merchantId: [UInt8]
        var mcc: UInt16
        var country: [UInt8]
        var channel: [UInt8]
        var lat: Double?
        var lon: Double?
        var eventTimeMs: Int64

        var description: String {
            "Tx(tx=\(transactionId) card=\(cardId) amount=\(amountMinor) cur=\(currency) merchant=\(merchantId) "
                + "mcc=\(mcc) country=\(country) channel=\(channel) lat=\(String(describing: lat)) "
                + "lon=\(String(describing: lon)) t=\(eventTimeMs))"
        }
    }

    /// A JSON value as far as the field rules need it.
    enum Kind: Equatable {
        case null, bool, object, array
        case string([UInt8])  // unescaped UTF-8
        case integer([UInt8])  // the token's text
        case number([UInt8])  // the token's text (fraction and/or exponent)
    }

    /// The contract's field names, in the contract's (= reporting) order.
    static let fieldNames: [String] = [
        "schema_version", "transaction_id", "card_id", "amount_minor", "currency", "merchant_id",
        "mcc", "country", "channel", "lat", "lon", "event_time_ms",
    ]
    static let fieldNameBytes: [[UInt8]] = fieldNames.map { Array($0.utf8) }

    /// The top-level members of the message's object, or nil if the message
    /// is valid JSON but not an object; a failure code for anything else
    /// before the field rules.
    static func members(_ value: [UInt8]) -> Result<[([UInt8], Kind)]?, Code> {
        if value.count > maxMessageBytes { return .failure(Code(code: "too_large")) }
        if value.isEmpty { return .failure(Code(code: "invalid_json")) }
        if String(validating: value, as: UTF8.self) == nil { return .failure(Code(code: "invalid_utf8")) }
        var p = Parser(b: value)
        do throws(Parser.Failure) {
            return .success(try p.document())
        } catch {
            return .failure(Code(code: error == .tooDeep ? "nesting_too_deep" : "invalid_json"))
        }
    }

    static func decode(_ value: [UInt8], key: [UInt8]?) -> Result<Tx, Code> {
        let members: [([UInt8], Kind)]
        switch Self.members(value) {
        case .failure(let code): return .failure(code)
        case .success(nil): return .failure(Code(code: "not_an_object"))
        case .success(let m?): members = m
        }
        var occurrences = [Int](repeating: 0, count: fieldNames.count)
        var first = [Kind?](repeating: nil, count: fieldNames.count)
        for (name, kind) in members {
            guard let index = fieldNameBytes.firstIndex(of: name) else { continue }
            occurrences[index] += 1
            if first[index] == nil { first[index] = kind }
        }
        let rules = Rules(occurrences: occurrences, first: first)
        do throws(Code) {
            return .success(try rules.transaction(key: key))
        } catch {
            return .failure(error)
        }
    }

    struct Code: Error { var code: String }

    struct Rules {
        var occurrences: [Int]
        var first: [Kind?]

        func index(_ name: String) -> Int { Reference.fieldNames.firstIndex(of: name)! }

        func required(_ name: String) throws(Code) -> Kind {
            let i = index(name)
            if occurrences[i] >= 2 { throw Code(code: "duplicate_field:" + name) }
            guard let kind = first[i], kind != .null else { throw Code(code: "missing_field:" + name) }
            return kind
        }

        func string(_ name: String) throws(Code) -> [UInt8] {
            guard case .string(let s) = try required(name) else { throw Code(code: "wrong_type:" + name) }
            return s
        }

        /// nil when the integer does not fit in Int64.
        func integer(_ name: String) throws(Code) -> Int64? {
            guard case .integer(let text) = try required(name) else { throw Code(code: "wrong_type:" + name) }
            return Int64(String(decoding: text, as: UTF8.self))
        }

        func identifier(_ name: String) throws(Code) -> [UInt8] {
            let s = try string(name)
            guard s.count >= 1 && s.count <= Reference.maxIdentifierBytes else {
                throw Code(code: "invalid_value:" + name)
            }
            return s
        }

        func coordinate(_ name: String, limit: Double) throws(Code) -> Double? {
            let i = index(name)
            if occurrences[i] >= 2 { throw Code(code: "duplicate_field:" + name) }
            let text: [UInt8]
            switch first[i] {
            case nil, .null?: return nil
            case .integer(let t)?, .number(let t)?: text = t
            default: throw Code(code: "wrong_type:" + name)
            }
            guard let d = Double(String(decoding: text, as: UTF8.self)) else {
                fatalError("reference: Double() refused JSON number \(String(decoding: text, as: UTF8.self))")
            }
            guard d >= -limit && d <= limit else { throw Code(code: "out_of_range:" + name) }
            return d
        }

        static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }

        func transaction(key: [UInt8]?) throws(Code) -> Tx {
            guard try integer("schema_version") == 1 else { throw Code(code: "unknown_schema_version") }
            let transactionId = try identifier("transaction_id")
            let cardId = try identifier("card_id")
            guard let amount = try integer("amount_minor"), amount > 0, amount <= Reference.maxAmountMinor else {
                throw Code(code: "out_of_range:amount_minor")
            }
            let currency = try string("currency")
            guard currency.count == 3, currency.allSatisfy(Self.isUpper),
                CurrencyCode(String(decoding: currency, as: UTF8.self)) != nil
            else { throw Code(code: "invalid_value:currency") }
            let merchantId = try identifier("merchant_id")
            let mccText = try string("mcc")
            guard mccText.count == 4, mccText.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let mcc = UInt16(String(decoding: mccText, as: UTF8.self))
            else { throw Code(code: "invalid_value:mcc") }
            let country = try string("country")
            guard country.count == 2, country.allSatisfy(Self.isUpper),
                CountryCode(String(decoding: country, as: UTF8.self)) != nil
            else { throw Code(code: "invalid_value:country") }
            let channel = try string("channel")
            guard channel == Array("pos".utf8) || channel == Array("ecom".utf8) || channel == Array("atm".utf8) else {
                throw Code(code: "invalid_value:channel")
            }
            let lat = try coordinate("lat", limit: 90)
            let lon = try coordinate("lon", limit: 180)
            guard (lat == nil) == (lon == nil) else { throw Code(code: "lat_lon_pair") }
            guard let eventTime = try integer("event_time_ms"), eventTime >= 0 else {
                throw Code(code: "out_of_range:event_time_ms")
            }
            guard let key, key == cardId else { throw Code(code: "key_mismatch") }
            return Tx(
                transactionId: transactionId, cardId: cardId, amountMinor: amount, currency: currency,
                merchantId: merchantId, mcc: mcc, country: country, channel: channel, lat: lat, lon: lon,
                eventTimeMs: eventTime)
        }
    }

    /// Recursive descent over RFC 8259, reporting the first problem in document order.
    struct Parser {
        enum Failure: Error, Equatable { case invalid, tooDeep }

        let b: [UInt8]
        var i = 0

        func peek() -> UInt8? { i < b.count ? b[i] : nil }

        mutating func ws() {
            while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { i += 1 }
        }

        static func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }

        /// The top-level object's members, or nil for another valid value.
        mutating func document() throws(Failure) -> [([UInt8], Kind)]? {
            ws()
            var result: [([UInt8], Kind)]? = nil
            if peek() == UInt8(ascii: "{") {
                result = try object(depth: 0, collect: true)
            } else {
                _ = try value(depth: 0)
            }
            ws()
            guard i == b.count else { throw .invalid }
            return result
        }

        /// `depth`: containers open around this value.
        mutating func value(depth: Int) throws(Failure) -> Kind {
            switch peek() ?? 0 {
            case UInt8(ascii: "{"):
                _ = try object(depth: depth, collect: false)
                return .object
            case UInt8(ascii: "["):
                try array(depth: depth)
                return .array
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return try number()
            case UInt8(ascii: "t"):
                try literal("true")
                return .bool
            case UInt8(ascii: "f"):
                try literal("false")
                return .bool
            case UInt8(ascii: "n"):
                try literal("null")
                return .null
            default:
                throw .invalid
            }
        }

        mutating func literal(_ word: String) throws(Failure) {
            for c in word.utf8 {
                guard peek() == c else { throw .invalid }
                i += 1
            }
        }

        mutating func object(depth: Int, collect: Bool) throws(Failure) -> [([UInt8], Kind)] {
            guard depth + 1 <= Reference.maxDepth else { throw .tooDeep }
            i += 1
            ws()
            var members: [([UInt8], Kind)] = []
            if peek() == UInt8(ascii: "}") {
                i += 1
                return members
            }
            while true {
                guard peek() == UInt8(ascii: "\"") else { throw .invalid }
                let name = try string()
                ws()
                guard peek() == UInt8(ascii: ":") else { throw .invalid }
                i += 1
                ws()
                let v = try value(depth: depth + 1)
                if collect { members.append((name, v)) }
                ws()
                switch peek() {
                case UInt8(ascii: ","):
                    i += 1
                    ws()
                case UInt8(ascii: "}"):
                    i += 1
                    return members
                default:
                    throw .invalid
                }
            }
        }

        mutating func array(depth: Int) throws(Failure) {
            guard depth + 1 <= Reference.maxDepth else { throw .tooDeep }
            i += 1
            ws()
            if peek() == UInt8(ascii: "]") {
                i += 1
                return
            }
            while true {
                _ = try value(depth: depth + 1)
                ws()
                switch peek() {
                case UInt8(ascii: ","):
                    i += 1
                    ws()
                case UInt8(ascii: "]"):
                    i += 1
                    return
                default:
                    throw .invalid
                }
            }
        }

        mutating func number() throws(Failure) -> Kind {
            let start = i
            if peek() == UInt8(ascii: "-") { i += 1 }
            guard Self.isDigit(peek()) else { throw .invalid }
            if peek() == UInt8(ascii: "0") {
                i += 1
            } else {
                while Self.isDigit(peek()) { i += 1 }
            }
            var isInteger = true
            if peek() == UInt8(ascii: ".") {
                i += 1
                guard Self.isDigit(peek()) else { throw .invalid }
                while Self.isDigit(peek()) { i += 1 }
                isInteger = false
            }
            if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
                i += 1
                if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { i += 1 }
                guard Self.isDigit(peek()) else { throw .invalid }
                while Self.isDigit(peek()) { i += 1 }
                isInteger = false
            }
            let text = Array(b[start..<i])
            return isInteger ? .integer(text) : .number(text)
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard i + 4 <= b.count else { throw .invalid }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = b[i]
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw .invalid
                }
                v = v * 16 + d
                i += 1
            }
            return v
        }

        /// A string at its opening quote; returns its unescaped UTF-8.
        mutating func string() throws(Failure) -> [UInt8] {
            i += 1
            var out: [UInt8] = []
            while true {
                guard let c = peek() else { throw .invalid }
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return out
                }
                if c < 0x20 { throw .invalid }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    i += 1
                    continue
                }
                i += 1
                guard let e = peek() else { throw .invalid }
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let unit = try hex4()
                    var scalar = unit
                    if unit >= 0xDC00 && unit <= 0xDFFF { throw .invalid }
                    if unit >= 0xD800 && unit <= 0xDBFF {
                        guard peek() == UInt8(ascii: "\\") else { throw .invalid }
                        i += 1
                        guard peek() == UInt8(ascii: "u") else { throw .invalid }
                        i += 1
                        let low = try hex4()
                        guard low >= 0xDC00 && low <= 0xDFFF else { throw .invalid }
                        scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalar)!).utf8)
                default:
                    throw .invalid
                }
            }
        }
    }
}
