/// Redis Cluster's key-to-slot mapping: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.
public enum RedisSlot {
    public static let count = 16384

    /// The slot of `key`: if the key has a `{...}` with at least one byte between the first `{` and the first `}`
    /// after it, only those bytes are hashed (the hash tag).
    public static func slot(ofKey key: [UInt8]) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")),
            let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1
        {
            return Int(crc16(key[(open + 1)..<close]) & 0x3FFF)
        }
        return Int(crc16(key[...]) & 0x3FFF)
    }

    /// CRC16-XMODEM (polynomial 0x1021, initial value 0), as the cluster specification defines it; `continuing` the
    /// CRC of bytes before these.
    public static func crc16(_ bytes: ArraySlice<UInt8>, continuing crc: UInt16 = 0) -> UInt16 {
        var crc = crc
        for byte in bytes { crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)] }
        return crc
    }

    private static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
        return crc
    }
}
