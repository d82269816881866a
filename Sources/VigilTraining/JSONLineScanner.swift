#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small forward-only JSON reader for one history record (RFC 8259 syntax), working on the record's bytes.
///
/// VigilCore's scanner is internal to that module; history records need only objects of strings, numbers and
/// literals, with anything else skipped, so this one is deliberately small. Containers nested deeper than
/// `maxDepth` are refused.
struct JSONLineScanner {
    enum Failure: Error { case invalid }

    /// A string token's body (between the quotes).
    struct StringToken {
        var start: Int
        var end: Int
        var hasEscapes: Bool
    }

    static let maxDepth = 32

    let base: UnsafePointer<UInt8>
    let end: Int
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        base = bytes.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) } ?? UnsafePointer(bitPattern: 1)!
        end = bytes.count
    }

    @inline(__always) func peek() -> UInt8 { position < end ? base[position] : 0 }

    @inline(__always) mutating func skipWhitespace() {
        while position < end {
            let b = base[position]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            position += 1
        }
    }

    @inline(__always) mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek() == byte else { throw .invalid }
        position += 1
    }

    /// True when only whitespace is left.
    mutating func atEndIgnoringWhitespace() -> Bool {
        skipWhitespace()
        return position >= end
    }

    mutating func scanString() throws(Failure) -> StringToken {
        try expect(UInt8(ascii: "\""))
        let start = position
        var escapes = false
        while position < end {
            let b = base[position]
            if b == UInt8(ascii: "\"") {
                let token = StringToken(start: start, end: position, hasEscapes: escapes)
                position += 1
                return token
            }
            if b < 0x20 { throw .invalid }
            if b == UInt8(ascii: "\\") {
                escapes = true
                guard position + 1 < end else { throw .invalid }
                switch base[position + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    guard position + 6 <= end, Self.hex4(base + position + 2) != nil else { throw .invalid }
                    position += 6
                default: throw .invalid
                }
            } else {
                position += 1
            }
        }
        throw .invalid
    }

    /// The UTF-8 bytes a string token stands for, escapes resolved.
    func bytes(of token: StringToken) -> [UInt8] {
        guard token.hasEscapes else { return Array(UnsafeBufferPointer(start: base + token.start, count: token.end - token.start)) }
        var out: [UInt8] = []
        var i = token.start
        while i < token.end {
            let b = base[i]
            guard b == UInt8(ascii: "\\") else { out.append(b); i += 1; continue }
            let e = base[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = Self.hex4(base + i)!
                i += 4
                if (0xD800...0xDBFF).contains(scalar), i + 6 <= token.end, base[i] == UInt8(ascii: "\\"),
                    base[i + 1] == UInt8(ascii: "u"), let low = Self.hex4(base + i + 2), (0xDC00...0xDFFF).contains(low)
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: out.append(e)  // " \ /
            }
        }
        return out
    }

    /// Whether a string token equals `literal` (escapes resolved).
    func token(_ token: StringToken, equals literal: StaticString) -> Bool {
        if token.hasEscapes {
            return bytes(of: token).elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        }
        let count = literal.utf8CodeUnitCount
        guard token.end - token.start == count else { return false }
        return memcmp(base + token.start, literal.utf8Start, count) == 0
    }

    /// Scans a number token; returns its range and whether it is written as an integer.
    mutating func scanNumber() throws(Failure) -> (start: Int, end: Int, isInteger: Bool) {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        let first = peek()
        guard Self.isDigit(first) else { throw .invalid }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard Self.isDigit(peek()) else { throw .invalid }
            skipDigits()
            isInteger = false
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard Self.isDigit(peek()) else { throw .invalid }
            skipDigits()
            isInteger = false
        }
        return (start, position, isInteger)
    }

    /// A number value as a Double, correctly rounded: short decimals exactly (Clinger's fast path), anything
    /// else by `strtod`.
    mutating func scanDouble() throws(Failure) -> Double {
        let token = try scanNumber()
        if let fast = fastDouble(token.start, token.end) { return fast }
        let count = token.end - token.start
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { buffer in
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base + token.start, byteCount: count)
            buffer[count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    /// `[-]digits[.digits]` with at most 15 significant digits in all and no exponent: the integer mantissa and
    /// the power of ten are both exact doubles, so one division is correctly rounded.
    private func fastDouble(_ start: Int, _ end: Int) -> Double? {
        var i = start
        let negative = base[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var inFraction = false
        while i < end {
            let b = base[i]
            if b == UInt8(ascii: ".") {
                inFraction = true
            } else if Self.isDigit(b) {
                mantissa = mantissa &* 10 &+ UInt64(b &- UInt8(ascii: "0"))
                digits += 1
                if inFraction { fractionDigits += 1 }
            } else {
                return nil  // exponent
            }
            i += 1
        }
        guard digits <= 15 else { return nil }
        let value = Double(mantissa) / Self.powersOfTen[fractionDigits]
        return negative ? -value : value
    }

    private static let powersOfTen: [Double] = (0...15).map { e in (0..<e).reduce(1.0) { x, _ in x * 10 } }

    /// A number value that must be an integer in Int64 (`1.5e3` is accepted as 1500, `1.5` is not).
    mutating func scanInt64() throws(Failure) -> Int64? {
        let save = position
        let token = try scanNumber()
        if token.isInteger, token.end - token.start <= 18 {
            var i = token.start
            let negative = base[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            var value: Int64 = 0
            while i < token.end {
                value = value * 10 + Int64(base[i] - UInt8(ascii: "0"))
                i += 1
            }
            return negative ? -value : value
        }
        position = save
        let d = try scanDouble()
        guard d.isFinite, d.rounded() == d, abs(d) < 9.0e18 else { return nil }
        return Int64(d)
    }

    /// `true`, `false` or `null`; returns true/false for the booleans and nil for null.
    /// A version field (`schema_version`, `catalog_version`): its integer value, or -1 when it is not an integer
    /// (the value is skipped), so the caller refuses the record as of an unsupported version.
    mutating func scanVersion() throws(Failure) -> Int64 {
        guard peek() == UInt8(ascii: "-") || JSONLineScanner.isDigit(peek()) else {
            try skipValue()
            return -1
        }
        return try scanInt64() ?? -1
    }

    mutating func scanLiteral() throws(Failure) -> Bool? {
        if match("true") { return true }
        if match("false") { return false }
        if match("null") { return nil }
        throw .invalid
    }

    private mutating func match(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - position >= count, memcmp(base + position, word.utf8Start, count) == 0 else { return false }
        position += count
        return true
    }

    /// Skips any one value, validating its syntax.
    mutating func skipValue(depth: Int = 1) throws(Failure) {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "\""): _ = try scanString()
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw .invalid }
            try forEachMember { (scanner: inout JSONLineScanner, _: StringToken) throws(Failure) in
                try scanner.skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw .invalid }
            position += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { position += 1; return }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "]"))
                return
            }
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try scanNumber()
        default: _ = try scanLiteral()
        }
    }

    /// Walks an object: for each member, `body` gets the key with the scanner positioned at the value, and must
    /// consume the value.
    mutating func forEachMember(_ body: (inout JSONLineScanner, StringToken) throws(Failure) -> Void) throws(Failure) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { position += 1; return }
        while true {
            skipWhitespace()
            let key = try scanString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            try body(&self, key)
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect(UInt8(ascii: "}"))
            return
        }
    }

    @inline(__always) private mutating func skipDigits() {
        while position < end, Self.isDigit(base[position]) { position += 1 }
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    static func hex4(_ p: UnsafePointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for i in 0..<4 {
            let b = p[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
