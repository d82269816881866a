/// The keyed partitioners payment systems' Kafka clients use by default, as pure functions of the key's bytes and the
/// topic's partition count. Vigil does not choose partitions; it uses these to tell when a record sits on a partition
/// its key does not map to (`PartitionerCheck`, `docs/partitioning.md`).
public enum Partitioner: String, Sendable, CaseIterable {
    /// The Java client's default for keyed records, also librdkafka's `murmur2` and `murmur2_random`:
    /// `(murmur2(key) & 0x7fffffff) % n`, with Kafka's `Utils.murmur2` (seed 0x9747b28c).
    case murmur2
    /// librdkafka's default `consistent_random`, also `consistent`: `crc32(key) % n`, zlib's CRC-32 of the key.
    case crc32

    /// The partition this partitioner gives `key` on a topic of `partitionCount` (> 0) partitions.
    public func partition(of key: UnsafeRawBufferPointer, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        switch self {
        case .murmur2: return Int32((Self.murmur2Hash(key) & 0x7fff_ffff) % UInt32(partitionCount))
        case .crc32: return Int32(Self.crc32Hash(key) % UInt32(partitionCount))
        }
    }

    /// The partition this partitioner gives `key`.
    public func partition(of key: [UInt8], partitionCount: Int32) -> Int32 {
        key.withUnsafeBytes { partition(of: $0, partitionCount: partitionCount) }
    }

    /// Kafka's `Utils.murmur2` (MurmurHash2, seed 0x9747b28c, little-endian 4-byte words), as an unsigned value.
    public static func murmur2Hash(_ key: UnsafeRawBufferPointer) -> UInt32 {
        let m: UInt32 = 0x5bd1_e995
        var h: UInt32 = 0x9747_b28c ^ UInt32(truncatingIfNeeded: key.count)
        let words = key.count / 4
        for i in 0..<words {
            let b = 4 * i
            var k = UInt32(key[b]) | UInt32(key[b + 1]) << 8 | UInt32(key[b + 2]) << 16 | UInt32(key[b + 3]) << 24
            k = k &* m
            k ^= k >> 24
            k = k &* m
            h = h &* m
            h ^= k
        }
        let tail = 4 * words
        switch key.count & 3 {
        case 3:
            h ^= UInt32(key[tail + 2]) << 16
            h ^= UInt32(key[tail + 1]) << 8
            h ^= UInt32(key[tail])
            h = h &* m
        case 2:
            h ^= UInt32(key[tail + 1]) << 8
            h ^= UInt32(key[tail])
            h = h &* m
        case 1:
            h ^= UInt32(key[tail])
            h = h &* m
        default:
            break
        }
        h ^= h >> 13
        h = h &* m
        h ^= h >> 15
        return h
    }

    /// zlib's CRC-32 (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF), as librdkafka's `rd_crc32`.
    public static func crc32Hash(_ key: UnsafeRawBufferPointer) -> UInt32 {
        crcTable.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xffff_ffff
            for byte in key { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
            return crc ^ 0xffff_ffff
        }
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xedb8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
