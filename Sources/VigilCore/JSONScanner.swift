/// A forward-only JSON tokenizer working directly on message bytes (RFC 8259).
///
/// It validates syntax as it goes and hands out byte spans, never copies.
/// UTF-8 must have been validated before (``UTF8Validation``): the scanner
/// only looks at ASCII bytes and passes any other byte through inside strings.
/// Skipping nested values is iterative, so hostile nesting cannot overflow the
/// stack; containers deeper than ``maxDepth`` are refused.
struct JSONScanner {
    enum Failure: Error, Equatable {
        case invalidJSON
        case nestingTooDeep
    }

    /// The body of a string token, between the quotes.
    struct StringToken {
        var start: Int
        var end: Int
        /// The body contains at least one backslash escape.
        var hasEscapes: Bool
    }

    /// A number token; `isInteger` when written without fraction or exponent.
    struct NumberToken {
        var start: Int
        var end: Int
        var isInteger: Bool
    }

    /// The deepest nesting of objects and arrays allowed, the outermost counting as 1.
    static let maxDepth = 32

    let base: UnsafePointer<UInt8>
    let end: Int
    var position: Int

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.end = count
        self.position = 0
    }

    var isAtEnd: Bool { position >= end }

    /// The byte at the current position, or 0 past the end. A real 0 byte is
    /// never valid where the scanner looks, so 0 always leads to a failure.
    @inline(__always)
    func peek() -> UInt8 {
        position < end ? base[position] : 0
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < end {
            switch base[position] {
            case JSONByte.space, JSONByte.tab, JSONByte.lineFeed, JSONByte.carriageReturn: position &+= 1
            default: return
            }
        }
    }

    /// Consumes `byte` or fails.
    @inline(__always)
    mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek() == byte else { throw .invalidJSON }
        position &+= 1
    }

    /// Scans a string token; the current byte must be its opening quote.
    @inline(__always)
    mutating func scanString() throws(Failure) -> StringToken {
        position &+= 1
        let start = position
        var hasEscapes = false
        while true {
            // Skip eight ordinary bytes at a time; stop at the first special one.
            while position &+ 8 <= end {
                let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
                let special = JSONScanner.specialStringBytes(word)
                if special != 0 {
                    position &+= special.trailingZeroBitCount &>> 3
                    break
                }
                position &+= 8
            }
            guard position < end else { throw .invalidJSON }
            let byte = base[position]
            if byte == JSONByte.quote {
                let token = StringToken(start: start, end: position, hasEscapes: hasEscapes)
                position &+= 1
                return token
            }
            if byte == JSONByte.backslash {
                hasEscapes = true
                try scanEscape()
            } else if byte < 0x20 {
                throw .invalidJSON  // raw control characters must be escaped
            } else {
                position &+= 1
            }
        }
    }

    /// Flags (bit 7 of each byte) the bytes of `word` that end a run of plain
    /// string content: `"`, `\` and control characters. Bytes of 0x80 and
    /// above are never flagged. Flags above the lowest one may be false
    /// positives (borrows), the lowest one never is.
    @inline(__always)
    static func specialStringBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highBits: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* UInt64(JSONByte.quote))
        let backslashes = word ^ (ones &* UInt64(JSONByte.backslash))
        let isQuote = (quotes &- ones) & ~quotes
        let isBackslash = (backslashes &- ones) & ~backslashes
        let isControl = (word &- ones &* 0x20) & ~word
        return (isQuote | isBackslash | isControl) & highBits
    }

    /// Scans one escape sequence at the current backslash; a `\u` high
    /// surrogate must be followed by a `\u` low surrogate, and a low one must
    /// not stand alone.
    private mutating func scanEscape() throws(Failure) {
        guard position &+ 1 < end else { throw .invalidJSON }
        switch base[position &+ 1] {
        case JSONByte.quote, JSONByte.backslash, JSONByte.slash,
            JSONByte.letterB, JSONByte.letterF, JSONByte.letterN, JSONByte.letterR, JSONByte.letterT:
            position &+= 2
        case JSONByte.letterU:
            let unit = try hexQuad(at: position &+ 2)
            position &+= 6
            if unit >= 0xDC00 && unit <= 0xDFFF { throw .invalidJSON }
            if unit >= 0xD800 && unit <= 0xDBFF {
                guard position &+ 1 < end, base[position] == JSONByte.backslash,
                    base[position &+ 1] == JSONByte.letterU
                else { throw .invalidJSON }
                let low = try hexQuad(at: position &+ 2)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw .invalidJSON }
                position &+= 6
            }
        default:
            throw .invalidJSON
        }
    }

    private func hexQuad(at offset: Int) throws(Failure) -> UInt32 {
        guard offset &+ 4 <= end, let value = JSONScanner.hexQuad(base + offset) else { throw .invalidJSON }
        return value
    }

    /// The value of four hex digits, or nil.
    @inline(__always)
    static func hexQuad(_ p: UnsafePointer<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for i in 0..<4 {
            let b = p[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Scans a number token: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    /// What follows it is the caller's business (`012` scans as `0`, then fails there).
    @inline(__always)
    mutating func scanNumber() throws(Failure) -> NumberToken {
        let start = position
        if peek() == JSONByte.minus { position &+= 1 }
        let first = peek()
        if first == JSONByte.zero {
            position &+= 1
        } else if JSONByte.isDigit(first) {
            position &+= 1
            skipDigits()
        } else {
            throw .invalidJSON
        }
        var isInteger = true
        if peek() == JSONByte.period {
            position &+= 1
            guard JSONByte.isDigit(peek()) else { throw .invalidJSON }
            skipDigits()
            isInteger = false
        }
        let e = peek()
        if e == JSONByte.letterE || e == JSONByte.capitalE {
            position &+= 1
            let sign = peek()
            if sign == JSONByte.plus || sign == JSONByte.minus { position &+= 1 }
            guard JSONByte.isDigit(peek()) else { throw .invalidJSON }
            skipDigits()
            isInteger = false
        }
        return NumberToken(start: start, end: position, isInteger: isInteger)
    }

    @inline(__always)
    private mutating func skipDigits() {
        while position < end && JSONByte.isDigit(base[position]) { position &+= 1 }
    }

    /// Consumes `true`, `false` or `null`; returns which byte it started with.
    mutating func scanLiteral() throws(Failure) -> UInt8 {
        let first = peek()
        let length: Int
        switch first {
        case JSONByte.letterT: length = matches("true") ? 4 : 0
        case JSONByte.letterF: length = matches("false") ? 5 : 0
        case JSONByte.letterN: length = matches("null") ? 4 : 0
        default: length = 0
        }
        guard length > 0 else { throw .invalidJSON }
        position &+= length
        return first
    }

    private func matches(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end &- position >= count else { return false }
        let w = word.utf8Start
        for i in 0..<count where base[position &+ i] != w[i] {
            return false
        }
        return true
    }

    /// Skips one complete value of any type, validating it. `depth` is the
    /// number of containers already open around it.
    mutating func skipValue(depth: Int) throws(Failure) {
        var level = 0  // containers opened by this call
        var arrayBits: UInt64 = 0  // bit `level - 1` set when that container is an array
        while true {
            // A value starts at `position`.
            var closedValue = true
            switch peek() {
            case JSONByte.openBrace, JSONByte.openBracket:
                guard depth &+ level < JSONScanner.maxDepth else { throw .nestingTooDeep }
                let isArray = peek() == JSONByte.openBracket
                position &+= 1
                level &+= 1
                let bit: UInt64 = 1 << UInt64(level &- 1)
                if isArray { arrayBits |= bit } else { arrayBits &= ~bit }
                skipWhitespace()
                if peek() == (isArray ? JSONByte.closeBracket : JSONByte.closeBrace) {
                    position &+= 1
                    level &-= 1
                } else {
                    if !isArray { try skipMemberName() }
                    closedValue = false
                }
            case JSONByte.quote:
                _ = try scanString()
            case JSONByte.minus, JSONByte.zero, UInt8(ascii: "1")...UInt8(ascii: "9"):
                _ = try scanNumber()
            default:
                _ = try scanLiteral()
            }
            guard closedValue else { continue }
            // After a value: close containers or move to the next element.
            while true {
                if level == 0 { return }
                skipWhitespace()
                let inArray = arrayBits & (1 << UInt64(level &- 1)) != 0
                let byte = peek()
                if byte == JSONByte.comma {
                    position &+= 1
                    skipWhitespace()
                    if !inArray { try skipMemberName() }
                    break
                }
                guard byte == (inArray ? JSONByte.closeBracket : JSONByte.closeBrace) else { throw .invalidJSON }
                position &+= 1
                level &-= 1
            }
        }
    }

    /// Skips `"name" :` and the whitespace after it.
    private mutating func skipMemberName() throws(Failure) {
        guard peek() == JSONByte.quote else { throw .invalidJSON }
        _ = try scanString()
        skipWhitespace()
        try expect(JSONByte.colon)
        skipWhitespace()
    }

    /// Validates a whole document: one value with optional whitespace around it.
    static func validate(_ bytes: UnsafeRawBufferPointer) -> Failure? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            return .invalidJSON
        }
        var scanner = JSONScanner(base: base, count: bytes.count)
        do {
            scanner.skipWhitespace()
            try scanner.skipValue(depth: 0)
            scanner.skipWhitespace()
            return scanner.isAtEnd ? nil : .invalidJSON
        } catch {
            return error
        }
    }
}

/// The ASCII bytes JSON syntax is made of.
enum JSONByte {
    static let tab: UInt8 = UInt8(ascii: "\t")
    static let lineFeed: UInt8 = UInt8(ascii: "\n")
    static let carriageReturn: UInt8 = UInt8(ascii: "\r")
    static let space: UInt8 = UInt8(ascii: " ")
    static let quote: UInt8 = UInt8(ascii: "\"")
    static let plus: UInt8 = UInt8(ascii: "+")
    static let comma: UInt8 = UInt8(ascii: ",")
    static let minus: UInt8 = UInt8(ascii: "-")
    static let period: UInt8 = UInt8(ascii: ".")
    static let slash: UInt8 = UInt8(ascii: "/")
    static let zero: UInt8 = UInt8(ascii: "0")
    static let colon: UInt8 = UInt8(ascii: ":")
    static let capitalE: UInt8 = UInt8(ascii: "E")
    static let openBracket: UInt8 = UInt8(ascii: "[")
    static let backslash: UInt8 = UInt8(ascii: "\\")
    static let closeBracket: UInt8 = UInt8(ascii: "]")
    static let letterB: UInt8 = UInt8(ascii: "b")
    static let letterE: UInt8 = UInt8(ascii: "e")
    static let letterF: UInt8 = UInt8(ascii: "f")
    static let letterN: UInt8 = UInt8(ascii: "n")
    static let letterR: UInt8 = UInt8(ascii: "r")
    static let letterT: UInt8 = UInt8(ascii: "t")
    static let letterU: UInt8 = UInt8(ascii: "u")
    static let openBrace: UInt8 = UInt8(ascii: "{")
    static let closeBrace: UInt8 = UInt8(ascii: "}")

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }
}
