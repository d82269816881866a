#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The set of 64-bit transaction-id hashes the merchant-risk job has counted, kept in 256 open-addressing shards
/// (chosen by the hash's top byte; within a shard the low 32 bits pick the slot, then linear probing). A shard grows
/// by half on its own when it is 80% full, so growing never holds more than one shard twice, unlike one big `Set`
/// whose doubling briefly holds the old and the new table; the load stays between 53% and 80%, 10-15 bytes per id.
///
/// The slots are mapped pages of their own (`mmap`), not heap blocks: a shard that grows gives its old slots back to
/// the system at once. From the heap, glibc kept the freed blocks as fragments too small for the next, larger shard,
/// and the job's peak memory was a third higher (docs/performance.md).
///
/// A reference type inside: copies share the shards. The job owns one set and never copies it.
struct MerchantRiskIdSet: @unchecked Sendable {
    // @unchecked Sendable: the shards are only touched through the one set that owns them, on one thread.
    final class Shard {
        /// 0 marks an empty slot; the hash 0 is stored as 1.
        var slots: UnsafeMutablePointer<UInt64>?
        var size = 0
        var count = 0

        deinit { Self.unmap(slots, size) }

        static func map(_ size: Int) -> UnsafeMutablePointer<UInt64> {
            let raw = mmap(nil, size * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let raw, raw != UnsafeMutableRawPointer(bitPattern: -1) else {
                fatalError("merchant risk: cannot map \(size * 8) bytes for the id set: \(String(cString: strerror(errno)))")
            }
            return raw.bindMemory(to: UInt64.self, capacity: size)  // zero-filled by the kernel
        }

        static func unmap(_ slots: UnsafeMutablePointer<UInt64>?, _ size: Int) {
            if let slots { munmap(slots, size * 8) }
        }
    }

    static let shardBits = 8
    let shards: [Shard] = (0..<(1 << shardBits)).map { _ in Shard() }
    private(set) var count = 0

    /// Inserts `hash`; false when it was there already.
    mutating func insert(_ hash: UInt64) -> Bool {
        let h = hash == 0 ? 1 : hash
        let shard = shards[Int(h >> UInt64(64 - Self.shardBits))]
        if (shard.count + 1) * 5 > shard.size * 4 { Self.grow(shard) }
        let slots = shard.slots!, size = shard.size
        var i = Self.home(h, size)
        while true {
            let v = slots[i]
            if v == 0 {
                slots[i] = h
                shard.count += 1
                count += 1
                return true
            }
            if v == h { return false }
            i += 1
            if i == size { i = 0 }
        }
    }

    /// The first slot to try: the low 32 bits scaled to the shard's size.
    @inline(__always) static func home(_ h: UInt64, _ size: Int) -> Int {
        Int(((h & 0xFFFF_FFFF) &* UInt64(size)) >> 32)
    }

    private static func grow(_ shard: Shard) {
        let size = max(512, shard.size + shard.size / 2)  // 512 slots: one 4 KiB page
        let slots = Shard.map(size)
        if let old = shard.slots {
            for j in 0..<shard.size where old[j] != 0 {
                let v = old[j]
                var i = home(v, size)
                while slots[i] != 0 {
                    i += 1
                    if i == size { i = 0 }
                }
                slots[i] = v
            }
        }
        Shard.unmap(shard.slots, shard.size)
        shard.slots = slots
        shard.size = size
    }

    /// Bytes held by the slots.
    var bytes: Int { shards.reduce(0) { $0 + $1.size * 8 } }
}
