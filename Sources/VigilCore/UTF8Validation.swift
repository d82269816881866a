/// Strict UTF-8 validation (Unicode 15, table 3-7): no overlong forms, no
/// surrogates, nothing above U+10FFFF, no truncated sequences.
enum UTF8Validation {
    static func isValid(_ p: UnsafePointer<UInt8>, count: Int) -> Bool {
        var i = 0
        while i < count {
            // Messages are mostly ASCII: test 32, then 8 bytes at a time.
            let raw = UnsafeRawPointer(p)
            while i &+ 32 <= count {
                let words = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i &+ 16, as: UInt64.self)
                    | raw.loadUnaligned(fromByteOffset: i &+ 24, as: UInt64.self)
                if words & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 32
            }
            while i &+ 8 <= count {
                let word = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 8
            }
            guard i < count else { return true }
            let b0 = p[i]
            if b0 < 0x80 {
                i &+= 1
                continue
            }
            let remaining = count &- i
            if b0 < 0xC2 {
                return false  // continuation byte or overlong 2-byte lead
            } else if b0 < 0xE0 {
                guard remaining >= 2, isContinuation(p[i &+ 1]) else { return false }
                i &+= 2
            } else if b0 < 0xF0 {
                guard remaining >= 3 else { return false }
                let b1 = p[i &+ 1]
                let b1Valid: Bool = switch b0 {
                case 0xE0: b1 >= 0xA0 && b1 <= 0xBF  // no overlong
                case 0xED: b1 >= 0x80 && b1 <= 0x9F  // no surrogates
                default: isContinuation(b1)
                }
                guard b1Valid, isContinuation(p[i &+ 2]) else { return false }
                i &+= 3
            } else if b0 < 0xF5 {
                guard remaining >= 4 else { return false }
                let b1 = p[i &+ 1]
                let b1Valid: Bool = switch b0 {
                case 0xF0: b1 >= 0x90 && b1 <= 0xBF  // no overlong
                case 0xF4: b1 >= 0x80 && b1 <= 0x8F  // nothing above U+10FFFF
                default: isContinuation(b1)
                }
                guard b1Valid, isContinuation(p[i &+ 2]), isContinuation(p[i &+ 3]) else { return false }
                i &+= 4
            } else {
                return false
            }
        }
        return true
    }

    @inline(__always)
    private static func isContinuation(_ b: UInt8) -> Bool {
        b & 0xC0 == 0x80
    }
}
