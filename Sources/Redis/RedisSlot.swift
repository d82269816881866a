/// Redis Cluster's key-to-slot function: `CRC16(key) mod 16384`, where only the hash tag is hashed when the key has
/// one. Public so that callers can choose hash tags that put related keys (a partition's cards and its record) in
/// one slot, and so on one node, as multi-key commands and scripts in a cluster require.
public enum RedisSlot {
    /// The number of slots in every Redis Cluster.
    public static let count = 16384

    /// CRC-16/XMODEM (polynomial 0x1021, initial value 0, no reflection, no final XOR), the checksum Redis Cluster
    /// hashes keys with: `crc16("123456789") == 0x31C3`.
    public static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        bytes.withContiguousStorageIfAvailable { crc16(UnsafeRawBufferPointer($0)) } ?? crc16(Array(bytes))
    }

    /// CRC-16/XMODEM of bytes in memory the caller owns.
    public static func crc16(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        let bytes = bytes.bindMemory(to: UInt8.self)
        return table.withUnsafeBufferPointer { crc16(bytes, 0, bytes.count, table: $0) }
    }

    /// The slot of `key`: the CRC16 of its hash tag when it has one, else of the whole key, modulo 16384.
    public static func slot(ofKey key: some Collection<UInt8>) -> Int {
        key.withContiguousStorageIfAvailable { slot(ofKey: UnsafeRawBufferPointer($0)) } ?? slot(ofKey: Array(key))
    }

    /// The slot of a key in memory the caller owns.
    public static func slot(ofKey key: UnsafeRawBufferPointer) -> Int {
        let key = key.bindMemory(to: UInt8.self)
        return table.withUnsafeBufferPointer { slot(key, 0, key.count, table: $0) }
    }

    /// The slot of the key in `bytes[start..<end]`. Index loops over raw pointers: this runs for every key of every
    /// command a cluster client sends, and stays cheap even unoptimised (debug builds, tests).
    static func slot(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, table: UnsafeBufferPointer<UInt16>)
        -> Int
    {
        var open = start
        while open < end && bytes[open] != UInt8(ascii: "{") { open += 1 }
        if open < end {
            var close = open + 1
            while close < end && bytes[close] != UInt8(ascii: "}") { close += 1 }
            if close < end && close > open + 1 {
                return Int(crc16(bytes, open + 1, close, table: table) & 0x3FFF)
            }
        }
        return Int(crc16(bytes, start, end, table: table) & 0x3FFF)
    }

    private static func crc16(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int, table: UnsafeBufferPointer<UInt16>)
        -> UInt16
    {
        var crc: UInt16 = 0
        var index = start
        while index < end {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ bytes[index])]
            index += 1
        }
        return crc
    }

    /// The slot of a key given as text (its UTF-8 bytes).
    public static func slot(ofKey key: String) -> Int {
        slot(ofKey: Array(key.utf8))
    }

    /// The bytes between the first `{` and the first `}` after it, when there are some; `nil` when the key has no
    /// `{`, no `}` after it, or `{}` (an empty tag), in which case the whole key is hashed.
    public static func hashTag<Key: Collection<UInt8>>(of key: Key) -> Key.SubSequence? {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")) else { return nil }
        let afterOpen = key.index(after: open)
        guard let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen else { return nil }
        return key[afterOpen..<close]
    }

    static let table: [UInt16] = (0..<256).map { index in
        var crc = UInt16(index) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
