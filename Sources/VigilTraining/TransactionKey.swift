/// A transaction id reduced to 128 bits, so that de-duplication and the label join keep 16 bytes per transaction
/// instead of a `String`. Two hashes with different multipliers: a collision among a billion ids has a probability
/// around 10^-21, far below the other ways a record can be wrong.
public struct TransactionKey: Hashable, Sendable, Comparable {
    public var high: UInt64
    public var low: UInt64

    /// The key of a transaction id's UTF-8 bytes.
    public init(_ bytes: UnsafeRawBufferPointer) {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a 64
        var b: UInt64 = 0x84222325_cbf29ce4
        for byte in bytes {
            a = (a ^ UInt64(byte)) &* 0x100_0000_01b3
            b = (b ^ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
        }
        high = a
        low = Self.mix(b ^ UInt64(bytes.count))
    }

    public init(_ id: String) {
        var id = id
        self = id.withUTF8 { TransactionKey(UnsafeRawBufferPointer($0)) }
    }

    /// splitmix64's finaliser: spreads every input bit over the output.
    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    public static func < (a: TransactionKey, b: TransactionKey) -> Bool {
        a.high != b.high ? a.high < b.high : a.low < b.low
    }
}
