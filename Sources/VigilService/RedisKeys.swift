import Redis
import Synchronization

/// Every Redis key Vigil reads or writes, in one place (layout in `docs/state.md`, "Redis key layout").
///
/// Keys that one script or one multi-key command touches together share a hash tag, so that each such command stays
/// on one Redis Cluster slot, one node: a partition's record and cards (`{p<partition>.<suffix>}`, `PartitionTag`),
/// the model slots (`{model}`) and the merchant-risk snapshots (`{mrisk}`). On a single Redis the braces are just
/// characters of the key.
public struct RedisKeys: Sendable, Equatable {
    /// The deployment's prefix (`--redis-prefix`); it holds no braces (`VigilConfig.validate`).
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    /// `<prefix>:deployment`: the deployment (group and topic) the prefix belongs to.
    public var deployment: String { "\(prefix):deployment" }
    /// `<prefix>:probe`: written by the health probes.
    public var probe: String { "\(prefix):probe" }
    /// `<prefix>:{<tag>}:probe`: the probe key on the slot of one partition.
    public func probe(partition: Int32) -> String { "\(prefix):{\(PartitionTag.tag(partition))}:probe" }

    /// `<prefix>:{mrisk}:probe`: the probe key on the merchant-risk snapshots' slot (every batch of catalog 2 reads
    /// there).
    public var merchantRiskProbe: String { merchantRiskPrefix + "probe" }
    /// `{<prefix>:deployment}:probe`: the probe key on the deployment key's slot (every claim checks it).
    public var deploymentProbe: String { "{\(deployment)}:probe" }

    /// `<prefix>:{<tag>}:part:<topic>:<partition>`: the partition's record (applied offset, `M`, epoch, deployment).
    public func partition(topic: String, partition: Int32) -> String {
        "\(prefix):{\(PartitionTag.tag(partition))}:part:\(topic):\(partition)"
    }

    /// `<prefix>:{<tag>}:card:`, to which a card id's bytes are appended: the card as that input partition saw it.
    public func cardKeyPrefix(partition: Int32) -> String { "\(prefix):{\(PartitionTag.tag(partition))}:card:" }
    /// A busy card's event log (`CardState+Log.swift`), beside its card key on the same slot.
    public func logKeyPrefix(partition: Int32) -> String { "\(prefix):{\(PartitionTag.tag(partition))}:log:" }

    /// `<prefix>:{model}:<slot>`: a published model's JSON.
    public func modelJSON(slot: String) -> String { "\(prefix):{model}:\(slot)" }
    /// `<prefix>:{model}:<slot>:version`: its version.
    public func modelVersion(slot: String) -> String { "\(prefix):{model}:\(slot):version" }

    /// `<prefix>:{mrisk}:`: the start of every merchant-risk key.
    public var merchantRiskPrefix: String { "\(prefix):{mrisk}:" }
    /// `<prefix>:{mrisk}:current`: the merchant-risk snapshot version served.
    public var merchantRiskCurrent: String { merchantRiskPrefix + "current" }
    /// `<prefix>:{mrisk}:<version>`: one snapshot's hash.
    public func merchantRiskSnapshot(version: String) -> String { merchantRiskPrefix + version }
}

/// The hash tag of one input partition's keys: `p<partition>.<suffix>`, the suffix chosen so that the tag's slot is
/// the partition's target slot. Targets are the partition numbers bit-reversed over the 14 bits of a slot (the van der
/// Corput sequence: 0, 8192, 4096, 12288, 2048, ...), so the first `n` partitions lie evenly over the slot space for
/// every `n`, and a cluster with equal contiguous slot ranges per master (what `redis-cli --cluster create` makes)
/// holds about `n / masters` partitions on each. The tag depends on the partition number only: adding partitions or
/// nodes never renames a partition's keys.
public enum PartitionTag {
    /// The tag of `partition` (cached: finding a suffix takes about 16,000 CRC16s of 8-byte strings, a fraction of a
    /// millisecond, once per partition per process).
    public static func tag(_ partition: Int32) -> String {
        if let known = cache.withLock({ $0[partition] }) { return known }
        let found = search(partition)
        cache.withLock { $0[partition] = found }
        return found
    }

    /// The slot `partition`'s keys live on.
    public static func targetSlot(_ partition: Int32) -> Int {
        let p = Int(UInt32(bitPattern: partition) & 0x3FFF)
        var reversed = 0
        for bit in 0..<14 where p & (1 << bit) != 0 { reversed |= 1 << (13 - bit) }
        return reversed
    }

    static func search(_ partition: Int32) -> String {
        let target = targetSlot(partition)
        let base = Array("p\(partition).".utf8)
        var suffix = 0
        while true {
            let text = String(suffix, radix: 36)
            if Int(RedisSlot.crc16(base + Array(text.utf8)) & 0x3FFF) == target {
                return String(decoding: base, as: UTF8.self) + text
            }
            suffix += 1
        }
    }

    private static let cache = Mutex<[Int32: String]>([:])
}
