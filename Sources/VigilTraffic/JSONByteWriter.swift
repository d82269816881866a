/// Writes JSON text straight into the storage of the array being built, without going through `String` or
/// appending byte by byte to an `Array`.
///
/// Every write checks the capacity, so a wrong size estimate traps instead of corrupting memory.
struct JSONByteWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    private init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    /// An array of at most `capacity` bytes written by `body`: one allocation, no copy.
    static func bytes(capacity: Int, _ body: (inout JSONByteWriter) -> Void) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: max(capacity, 1)) { buffer, initializedCount in
            var writer = JSONByteWriter(buffer)
            body(&writer)
            initializedCount = writer.count
        }
    }

    @inline(__always)
    private func ensure(_ n: Int) {
        precondition(n <= capacity &- count, "JSONByteWriter: capacity exceeded")
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        ensure(1)
        base[count] = b
        count &+= 1
    }

    @inline(__always)
    mutating func raw(_ text: StaticString) {
        let n = text.utf8CodeUnitCount
        ensure(n)
        (base + count).initialize(from: text.utf8Start, count: n)
        count &+= n
    }

    mutating func repeated(_ b: UInt8, count n: Int) {
        ensure(n)
        (base + count).initialize(repeating: b, count: n)
        count &+= n
    }

    /// A decimal integer.
    mutating func integer(_ value: Int64) {
        if value < 0 { byte(UInt8(ascii: "-")) }
        unsigned(value.magnitude, minimumDigits: 1)
    }

    /// A decimal number zero-padded to at least `minimumDigits` digits.
    mutating func unsigned(_ value: UInt64, minimumDigits: Int) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits &+= 1
        }
        digits = max(digits, minimumDigits)
        ensure(digits)
        var index = count &+ digits
        rest = value
        for _ in 0..<digits {
            index &-= 1
            base[index] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
            rest /= 10
        }
        count &+= digits
    }

    /// A fixed-point number with five decimals, e.g. 52.52000 or -0.12780.
    mutating func fixed5(_ valueE5: Int64) {
        if valueE5 < 0 { byte(UInt8(ascii: "-")) }
        let magnitude = valueE5.magnitude
        unsigned(magnitude / 100_000, minimumDigits: 1)
        byte(UInt8(ascii: "."))
        unsigned(magnitude % 100_000, minimumDigits: 5)
    }

    /// Eight lower-case hex digits.
    mutating func hex8(_ value: UInt32) {
        ensure(8)
        for i in 0..<8 {
            let nibble = UInt8(truncatingIfNeeded: (value >> UInt32(28 - 4 * i)) & 0xF)
            base[count &+ i] = Self.hexDigit(nibble)
        }
        count &+= 8
    }

    /// A quoted JSON string, escaping what JSON requires. Needs up to `6 * utf8.count + 2` bytes.
    mutating func string<S: Sequence>(_ utf8: S) where S.Element == UInt8 {
        byte(UInt8(ascii: "\""))
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                byte(UInt8(ascii: "\\"))
                byte(b)
            case 0..<0x20:
                raw("\\u00")
                byte(Self.hexDigit(b >> 4))
                byte(Self.hexDigit(b & 0xF))
            default:
                byte(b)
            }
        }
        byte(UInt8(ascii: "\""))
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ 0x30 : nibble &+ 0x57
    }
}
