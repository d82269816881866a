/// Exact conversions of number tokens that ``JSONScanner/scanNumber()`` accepted.
enum JSONNumber {
    /// The value of an integer token (no fraction, no exponent), or nil if it
    /// does not fit in `Int64`. `-0` is 0.
    static func int64(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int64? {
        var i = start
        let negative = base[i] == JSONByte.minus
        if negative { i &+= 1 }
        // 19 digits always fit in UInt64; more never fit in Int64 (no leading zeros).
        guard end &- i <= 19 else { return nil }
        var magnitude: UInt64 = 0
        while i < end {
            magnitude = magnitude &* 10 &+ UInt64(base[i] &- JSONByte.zero)
            i &+= 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) &+ 1 else { return nil }
            return Int64(truncatingIfNeeded: 0 &- magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// The correctly rounded value of any number token; ±infinity when it
    /// overflows, ±0 when it underflows.
    static func double(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Double {
        if let fast = fastDouble(base, from: start, to: end) { return fast }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: end &- start), as: UTF8.self)
        // The token is JSON number syntax, which Swift's parser accepts; it
        // returns nil only for text it does not understand.
        return Double(text) ?? .nan
    }

    /// Clinger's fast path: a decimal mantissa below 2^53 scaled by a power
    /// of ten up to 10^22 is exact in one IEEE multiplication or division.
    private static func fastDouble(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Double? {
        var i = start
        let negative = base[i] == JSONByte.minus
        if negative { i &+= 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        while i < end, JSONByte.isDigit(base[i]) {
            mantissa = mantissa &* 10 &+ UInt64(base[i] &- JSONByte.zero)
            digits &+= 1
            i &+= 1
        }
        if i < end, base[i] == JSONByte.period {
            i &+= 1
            while i < end, JSONByte.isDigit(base[i]) {
                mantissa = mantissa &* 10 &+ UInt64(base[i] &- JSONByte.zero)
                digits &+= 1
                exponent &-= 1
                i &+= 1
            }
        }
        guard digits <= 19 else { return nil }
        if i < end {  // exponent part
            i &+= 1
            var exponentNegative = false
            if base[i] == JSONByte.minus || base[i] == JSONByte.plus {
                exponentNegative = base[i] == JSONByte.minus
                i &+= 1
            }
            guard end &- i <= 4 else { return nil }
            var written = 0
            while i < end {
                written = written &* 10 &+ Int(base[i] &- JSONByte.zero)
                i &+= 1
            }
            exponent &+= exponentNegative ? -written : written
        }
        guard mantissa <= 1 << 53 else { return nil }
        var value = Double(mantissa)
        if mantissa != 0 {
            guard exponent >= -22 && exponent <= 22 else { return nil }
            if exponent < 0 {
                value /= powersOfTen[-exponent]
            } else {
                value *= powersOfTen[exponent]
            }
        }
        return negative ? -value : value
    }

    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]
}
