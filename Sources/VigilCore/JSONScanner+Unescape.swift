extension JSONScanner {
    /// Writes the unescaped UTF-8 of a string body that ``scanString()`` has
    /// accepted into `out`. Returns the byte count, or nil as soon as the
    /// result would exceed `capacity`.
    static func unescape(
        _ base: UnsafePointer<UInt8>, from start: Int, to end: Int,
        into out: UnsafeMutablePointer<UInt8>, capacity: Int
    ) -> Int? {
        var i = start
        var n = 0
        while i < end {
            let byte = base[i]
            if byte != JSONByte.backslash {
                guard n < capacity else { return nil }
                out[n] = byte
                n &+= 1
                i &+= 1
                continue
            }
            let kind = base[i &+ 1]
            i &+= 2
            var scalar: UInt32
            switch kind {
            case JSONByte.letterB: scalar = 0x08
            case JSONByte.letterF: scalar = 0x0C
            case JSONByte.letterN: scalar = 0x0A
            case JSONByte.letterR: scalar = 0x0D
            case JSONByte.letterT: scalar = 0x09
            case JSONByte.letterU:
                scalar = hexQuad(base + i) ?? 0xFFFD
                i &+= 4
                if scalar >= 0xD800 && scalar <= 0xDBFF {
                    // The scanner guaranteed a `\u` low surrogate follows.
                    let low = hexQuad(base + (i &+ 2)) ?? 0xDC00
                    scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
                    i &+= 6
                }
            default: scalar = UInt32(kind)  // \" \\ \/
            }
            guard let written = encodeUTF8(scalar, into: out + n, room: capacity &- n) else { return nil }
            n &+= written
        }
        return n
    }

    /// Encodes one scalar; nil if it needs more than `room` bytes.
    @inline(__always)
    private static func encodeUTF8(_ scalar: UInt32, into out: UnsafeMutablePointer<UInt8>, room: Int) -> Int? {
        if scalar < 0x80 {
            guard room >= 1 else { return nil }
            out[0] = UInt8(truncatingIfNeeded: scalar)
            return 1
        } else if scalar < 0x800 {
            guard room >= 2 else { return nil }
            out[0] = UInt8(truncatingIfNeeded: 0xC0 | scalar >> 6)
            out[1] = UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F)
            return 2
        } else if scalar < 0x10000 {
            guard room >= 3 else { return nil }
            out[0] = UInt8(truncatingIfNeeded: 0xE0 | scalar >> 12)
            out[1] = UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F)
            out[2] = UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F)
            return 3
        } else {
            guard room >= 4 else { return nil }
            out[0] = UInt8(truncatingIfNeeded: 0xF0 | scalar >> 18)
            out[1] = UInt8(truncatingIfNeeded: 0x80 | scalar >> 12 & 0x3F)
            out[2] = UInt8(truncatingIfNeeded: 0x80 | scalar >> 6 & 0x3F)
            out[3] = UInt8(truncatingIfNeeded: 0x80 | scalar & 0x3F)
            return 4
        }
    }
}
