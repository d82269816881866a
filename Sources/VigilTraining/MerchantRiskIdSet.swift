/// The set of 64-bit transaction-id hashes the merchant-risk job has counted, kept in 256 open-addressing shards
/// (chosen by the hash's top byte; within a shard the low 32 bits pick the slot, then linear probing). A shard grows
/// by half on its own when it is 80% full, so growing never holds more than one shard twice, unlike one big `Set`
/// whose doubling briefly holds the old and the new table; the load stays between 53% and 80%, 10-15 bytes per id.
struct MerchantRiskIdSet: Sendable {
    struct Shard: Sendable {
        /// 0 marks an empty slot; the hash 0 is stored as 1.
        var slots: [UInt64] = []
        var count = 0
    }

    static let shardBits = 8
    var shards = [Shard](repeating: Shard(), count: 1 << shardBits)
    private(set) var count = 0

    /// Inserts `hash`; false when it was there already.
    mutating func insert(_ hash: UInt64) -> Bool {
        let h = hash == 0 ? 1 : hash
        let s = Int(h >> UInt64(64 - Self.shardBits))
        if (shards[s].count + 1) * 5 > shards[s].slots.count * 4 { grow(s) }
        let inserted = shards[s].slots.withUnsafeMutableBufferPointer { slots -> Bool in
            var i = Self.home(h, slots.count)
            while true {
                let v = slots[i]
                if v == 0 {
                    slots[i] = h
                    return true
                }
                if v == h { return false }
                i += 1
                if i == slots.count { i = 0 }
            }
        }
        if inserted {
            shards[s].count += 1
            count += 1
        }
        return inserted
    }

    /// The first slot to try: the low 32 bits scaled to the shard's size.
    @inline(__always) static func home(_ h: UInt64, _ size: Int) -> Int {
        Int(((h & 0xFFFF_FFFF) &* UInt64(size)) >> 32)
    }

    private mutating func grow(_ s: Int) {
        let old = shards[s].slots
        let size = max(64, old.count + old.count / 2)
        var slots = [UInt64](repeating: 0, count: size)
        for v in old where v != 0 {
            var i = Self.home(v, size)
            while slots[i] != 0 {
                i += 1
                if i == size { i = 0 }
            }
            slots[i] = v
        }
        shards[s].slots = slots
    }

    /// Bytes held by the slots.
    var bytes: Int { shards.reduce(0) { $0 + $1.slots.count * 8 } }
}
