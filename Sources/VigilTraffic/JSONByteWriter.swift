/// Appends JSON text to a reusable byte buffer without going through `String`.
struct JSONByteWriter: Sendable {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        bytes.append(b)
    }

    mutating func raw(_ text: [UInt8]) {
        bytes.append(contentsOf: text)
    }

    /// A decimal integer.
    mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        unsigned(value.magnitude, minimumDigits: 1)
    }

    /// A decimal number zero-padded to at least `minimumDigits` digits.
    mutating func unsigned(_ value: UInt64, minimumDigits: Int) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        digits = max(digits, minimumDigits)
        let start = bytes.count
        for _ in 0..<digits { bytes.append(UInt8(ascii: "0")) }
        var index = start + digits - 1
        rest = value
        while rest > 0 {
            bytes[index] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
            rest /= 10
            index -= 1
        }
    }

    /// A fixed-point number with five decimals, e.g. 52.52000 or -0.12780.
    mutating func fixed5(_ valueE5: Int64) {
        if valueE5 < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = valueE5.magnitude
        unsigned(magnitude / 100_000, minimumDigits: 1)
        bytes.append(UInt8(ascii: "."))
        unsigned(magnitude % 100_000, minimumDigits: 5)
    }

    /// Eight lower-case hex digits.
    mutating func hex8(_ value: UInt32) {
        var shift: UInt32 = 28
        while true {
            let nibble = UInt8(truncatingIfNeeded: (value >> shift) & 0xF)
            bytes.append(nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57)
            if shift == 0 { break }
            shift -= 4
        }
    }

    /// A quoted JSON string, escaping what JSON requires.
    mutating func string<S: Sequence>(_ utf8: S) where S.Element == UInt8 {
        bytes.append(UInt8(ascii: "\""))
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(b)
            case 0..<0x20:
                raw("\\u00")
                bytes.append(Self.hexDigit(b >> 4))
                bytes.append(Self.hexDigit(b & 0xF))
            default:
                bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57
    }
}
