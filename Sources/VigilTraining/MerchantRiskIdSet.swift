/// The set of 64-bit transaction-id hashes the merchant-risk job has counted, kept in 256 open-addressing shards
/// (chosen by the hash's top byte, linear probing within a shard on its low bits). A shard doubles on its own when it
/// is three quarters full, so growing never holds more than one shard twice, unlike one big `Set` whose doubling
/// briefly holds the old and the new table: peak memory stays near 8 bytes / load (11-21 bytes) per id.
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
        if (shards[s].count + 1) * 4 > shards[s].slots.count * 3 { grow(s) }
        let inserted = shards[s].slots.withUnsafeMutableBufferPointer { slots -> Bool in
            let mask = slots.count - 1
            var i = Int(truncatingIfNeeded: h) & mask
            while true {
                let v = slots[i]
                if v == 0 {
                    slots[i] = h
                    return true
                }
                if v == h { return false }
                i = (i + 1) & mask
            }
        }
        if inserted {
            shards[s].count += 1
            count += 1
        }
        return inserted
    }

    private mutating func grow(_ s: Int) {
        let old = shards[s].slots
        let size = max(64, old.count * 2)
        var slots = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        for v in old where v != 0 {
            var i = Int(truncatingIfNeeded: v) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = v
        }
        shards[s].slots = slots
    }

    /// Bytes held by the slots.
    var bytes: Int { shards.reduce(0) { $0 + $1.slots.count * 8 } }
}
