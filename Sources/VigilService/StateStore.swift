import Foundation
import Kafka
import Redis
import VigilCore

/// What Redis knows of one partition: the last applied offset, the partition's highest accepted event time, and the
/// ownership epoch of the instance that owns it.
public struct PartitionRecord: Sendable, Equatable {
    public var applied: Int64?
    public var maxEventMs: Int64?
    public var epoch: Int64?

    public init(applied: Int64? = nil, maxEventMs: Int64? = nil, epoch: Int64? = nil) {
        self.applied = applied
        self.maxEventMs = maxEventMs
        self.epoch = epoch
    }
}

/// One partition's part of a batch write: the record Vigil read (the fence) and the record after the batch.
public struct PartitionUpdate: Sendable {
    public var partition: TopicPartition
    public var expected: PartitionRecord
    public var updated: PartitionRecord
}

/// Why a batch write was refused for a partition.
public struct FenceReport: Sendable, Equatable, CustomStringConvertible {
    public var partition: TopicPartition
    /// What Redis has now.
    public var current: PartitionRecord

    public var description: String {
        "\(partition): redis has applied \(current.applied.map(String.init) ?? "none"), epoch \(current.epoch.map(String.init) ?? "none")"
    }
}

/// One card's state in Redis: the card as one partition of the input topic saw it. A card published to two
/// partitions (publishers with different partitioners) has two states, each exact for its partition and written only
/// under that partition's fence (`docs/partitioning.md`).
public struct CardKey: Hashable, Sendable {
    public var partition: Int32
    public var cardId: String

    public init(partition: Int32, cardId: String) {
        self.partition = partition
        self.cardId = cardId
    }

    /// By the id's bytes, as Redis keys are: Swift's `String` equality is canonical equivalence, which would make
    /// two card ids of different bytes (`"café"` composed and decomposed) one card.
    /// Both by the contiguous UTF-8 of the ids (native strings always have it), in one call: a card key is hashed a
    /// few times per record, and byte-at-a-time `Hasher.combine` was about 5 % of the pipeline thread's samples.
    public static func == (a: CardKey, b: CardKey) -> Bool {
        guard a.partition == b.partition else { return false }
        let equal = a.cardId.utf8.withContiguousStorageIfAvailable { x in
            b.cardId.utf8.withContiguousStorageIfAvailable { y in
                x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
            }
        }
        if let equal = equal ?? nil { return equal }
        return a.cardId.utf8.elementsEqual(b.cardId.utf8)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(partition)
        let hashed: Void? = cardId.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if hashed == nil { Array(cardId.utf8).withUnsafeBytes { hasher.combine(bytes: $0) } }
    }
}

/// The Vigil deployment a Redis prefix belongs to: its consumer group and input topic (`{prefix}:deployment`).
public struct Deployment: Sendable, Equatable {
    public var group: String
    public var topic: String

    public init(group: String, topic: String) {
        self.group = group
        self.topic = topic
    }
}

/// Another deployment holds the Redis prefix: sharing it would mix both deployments' partition records and cards.
public struct DeploymentConflict: Error, Sendable, Equatable, CustomStringConvertible {
    public var prefix: String
    /// The deployment the prefix belongs to.
    public var owner: Deployment
    /// This instance's.
    public var ours: Deployment

    public var description: String {
        "redis prefix '\(prefix)' belongs to consumer group '\(owner.group)' on topic '\(owner.topic)'; this instance is "
            + "group '\(ours.group)' on topic '\(ours.topic)': use another --redis-prefix (or, if that deployment is "
            + "gone for good, delete the key '\(prefix):deployment' and its keys)"
    }
}

public enum StateStoreError: Error, CustomStringConvertible, Sendable {
    /// A partition's epoch or applied offset is not what this writer expects: another instance claimed it, or
    /// Redis lost writes. Nothing of the batch was written.
    case fenced(FenceReport)
    /// The prefix belongs to another deployment; nothing was claimed.
    case otherDeployment(DeploymentConflict)
    case redis(RedisError)
    case unexpectedReply(String)
    /// Redis Cluster: the batch's partitions are written one script each (each on its own slot), and only some
    /// landed: the `stored` partitions hold the batch's records, the others nothing of it, for the reason `failure`.
    indirect case partial(stored: [TopicPartition], failure: StateStoreError)

    public var description: String {
        switch self {
        case .partial(let stored, let failure): "\(failure) (stored anyway: \(stored.map(\.description).joined(separator: ", ")))"
        case .fenced(let report): "state write fenced: \(report)"
        case .otherDeployment(let conflict): "\(conflict)"
        case .redis(let e): "\(e)"
        case .unexpectedReply(let s): "unexpected Redis reply: \(s)"
        }
    }
}

/// Card and partition state in Redis (layout in `docs/state.md`). Two round trips per batch: the load
/// (`startLoad`/`finishLoad`, one pipeline: the partitions' check and one MGET) and `write` (one atomic script). Not
/// thread-safe: the pipeline thread and the store stage each have their own.
public final class StateStore: @unchecked Sendable {
    let endpoint: RedisEndpoint
    let prefix: String
    let keys: RedisKeys
    var connection: (any RedisClient)?
    /// Card key prefixes by partition, built once (finding a partition's hash tag takes a fraction of a millisecond).
    var cardKeyPrefixes: [Int32: [UInt8]] = [:]

    /// Checks every partition's epoch and `applied` against what the writer holds, then writes partition records,
    /// card values and busy cards' logs. Atomic (a Lua script), so card state never moves without its partition's
    /// offset, and an instance that lost a partition (a newer epoch was claimed) cannot write it. KEYS: partition
    /// keys (n), card keys (m), then the log keys that change (l). ARGV: n, TTL ms, m, per partition (epoch,
    /// expected applied, applied, max_event_ms), one value per card key, then per log key an operation ('A' append
    /// and renew the TTL, 'S' set, 'D' delete) and its bytes. A log is a Redis list of the chunks its batches
    /// appended (`RPUSH`), not a string grown by `APPEND`: Redis preallocates a growing string up to twice its length
    /// (a 17,290-byte log took 28,720 bytes as a string, 18,384 as a list: `docs/state.md`). Returns the number of cards written, or
    /// `{'FENCED', i, applied, epoch}` for the first partition `i` that does not match.
    static let batchScript = RedisScript("""
        local n = tonumber(ARGV[1])
        local m = tonumber(ARGV[3])
        for i = 1, n do
          local current = redis.call('HMGET', KEYS[i], 'applied', 'epoch')
          local applied = current[1] or ''
          local epoch = current[2] or ''
          if epoch ~= ARGV[4 * i] or applied ~= ARGV[4 * i + 1] then
            return {'FENCED', i, applied, epoch}
          end
        end
        for i = 1, n do
          redis.call('HSET', KEYS[i], 'applied', ARGV[4 * i + 2], 'max_event_ms', ARGV[4 * i + 3])
        end
        local ttl = ARGV[2]
        local first = 4 * n + 4
        for j = 1, m do
          redis.call('SET', KEYS[n + j], ARGV[first + j - 1], 'PX', ttl)
        end
        local logs = first + m
        for k = 1, #KEYS - n - m do
          local key = KEYS[n + m + k]
          local op = ARGV[logs + 2 * k - 2]
          if op == 'A' then
            local pushed = redis.pcall('RPUSH', key, ARGV[logs + 2 * k - 1])
            if type(pushed) == 'table' and pushed.err then
              -- a log written as one string (before logs were lists): made a list of that string first
              local old = redis.call('GET', key)
              redis.call('DEL', key)
              redis.call('RPUSH', key, old, ARGV[logs + 2 * k - 1])
            end
            redis.call('PEXPIRE', key, ttl)
          elseif op == 'S' then
            redis.call('DEL', key)
            redis.call('RPUSH', key, ARGV[logs + 2 * k - 1])
            redis.call('PEXPIRE', key, ttl)
          else
            redis.call('DEL', key)
          end
        end
        return m
        """)

    /// Lua that makes sure the prefix belongs to this deployment (KEYS[1] the deployment key or a partition record,
    /// whose `group` and `topic` fields say the same; ARGV[1] the group,
    /// ARGV[2] the input topic): registers it if nobody holds the prefix (the first start, or after Redis lost the
    /// key), returns `{'DEPLOYMENT', group, topic}` if another deployment does.
    static let deploymentCheck = """
        local owner = redis.call('HMGET', KEYS[1], 'group', 'topic')
        if not owner[1] then
          redis.call('HSET', KEYS[1], 'group', ARGV[1], 'topic', ARGV[2])
        elseif owner[1] ~= ARGV[1] or owner[2] ~= ARGV[2] then
          return {'DEPLOYMENT', owner[1], owner[2] or ''}
        end
        """

    /// Registers the deployment, or reports the one that holds the prefix. KEYS: deployment key. ARGV: group, topic.
    static let deploymentScript = RedisScript(deploymentCheck + "\nreturn {'OK'}")

    /// Claims a partition for a new owner, if the partition record is this deployment's (its `group` and `topic`
    /// fields, set by the first claim; checked in the same script, so that two deployments can never both claim a
    /// partition even after Redis lost the deployment key): increments its epoch (fencing every earlier owner) and
    /// returns the record. One key, so the script runs on the partition's slot in a Redis Cluster. KEYS: partition
    /// key. ARGV: group, topic.
    static let claimScript = RedisScript(deploymentCheck + """

        local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        local current = redis.call('HMGET', KEYS[1], 'applied', 'max_event_ms')
        return {current[1] or '', current[2] or '', epoch}
        """)

    public convenience init(host: String, port: Int, prefix: String) {
        self.init(endpoint: RedisEndpoint(host: host, port: port), prefix: prefix)
    }

    public init(endpoint: RedisEndpoint, prefix: String) {
        self.endpoint = endpoint
        self.prefix = prefix
        self.keys = RedisKeys(prefix: prefix)
    }

    /// `<prefix>:{<tag>}:card:`, to which a card id's bytes are appended (the input topic is the only one).
    func cardKeyPrefix(partition: Int32) -> [UInt8] {
        if let known = cardKeyPrefixes[partition] { return known }
        let built = Array(keys.cardKeyPrefix(partition: partition).utf8)
        cardKeyPrefixes[partition] = built
        return built
    }
    func partitionKey(_ tp: TopicPartition) -> String { keys.partition(topic: tp.topic, partition: tp.partition) }
    var deploymentKey: String { keys.deployment }

    /// The live connection, (re)connecting if needed.
    func live() throws(StateStoreError) -> any RedisClient {
        if let c = connection, !c.isBroken { return c }
        connection?.close()
        connection = nil
        do {
            let c = try endpoint.open()
            connection = c
            return c
        } catch {
            throw .redis(error)
        }
    }

    func run<T>(_ body: (any RedisClient) throws(RedisError) -> T) throws(StateStoreError) -> T {
        let c = try live()
        do {
            return try body(c)
        } catch {
            if c.isBroken { connection = nil }
            throw .redis(error)
        }
    }

    /// Registers `deployment` as the owner of the prefix (at start, before anything is claimed), or throws
    /// `.otherDeployment` naming the deployment that holds it.
    public func register(_ deployment: Deployment) throws(StateStoreError) {
        let keys = [Array(deploymentKey.utf8)]
        let args = [Array(deployment.group.utf8), Array(deployment.topic.utf8)]
        let reply = try run { c throws(RedisError) in try c.eval(Self.deploymentScript, keys: keys, args: args) }
        if let conflict = conflict(in: reply, ours: deployment) { throw .otherDeployment(conflict) }
        guard reply.array?.first?.string == "OK" else { throw .unexpectedReply("deployment check: \(reply)") }
    }

    /// Claims a partition on assignment: a new epoch that fences earlier owners, and what Redis knows of it. Throws
    /// `.otherDeployment` (claiming nothing) if the prefix or the partition record belongs to another deployment: the
    /// deployment key is checked first (registering it if Redis lost it), then the record, atomically with the claim.
    /// On a Redis Cluster the deployment key lives on another node than the partition: if that node cannot be asked
    /// (a failover), the claim goes on, checked by the record alone, rather than waiting for it.
    public func claimPartition(_ tp: TopicPartition, for deployment: Deployment) throws(StateStoreError) -> PartitionRecord {
        let registered = Result { () throws(StateStoreError) in try register(deployment) }
        if case .failure(let error) = registered {
            if case .redis = error, endpoint.cluster {
                // The record's own check below still stops a second deployment.
            } else {
                throw error
            }
        }
        let keys = [Array(partitionKey(tp).utf8)]
        let args = [Array(deployment.group.utf8), Array(deployment.topic.utf8)]
        let reply = try run { c throws(RedisError) in try c.eval(Self.claimScript, keys: keys, args: args) }
        if let conflict = conflict(in: reply, ours: deployment) { throw .otherDeployment(conflict) }
        guard let fields = reply.array, fields.count == 3, let epoch = fields[2].int else {
            throw .unexpectedReply("claim of \(tp): \(reply)")
        }
        return PartitionRecord(applied: Self.int(fields[0]), maxEventMs: Self.int(fields[1]), epoch: epoch)
    }

    /// The deployment named by a `{'DEPLOYMENT', group, topic}` reply of `deploymentCheck`, if it is one.
    func conflict(in reply: RedisReply, ours: Deployment) -> DeploymentConflict? {
        guard let fields = reply.array, fields.count == 3, fields[0].string == "DEPLOYMENT" else { return nil }
        let owner = Deployment(group: fields[1].string ?? "", topic: fields[2].string ?? "")
        return DeploymentConflict(prefix: prefix, owner: owner, ours: ours)
    }

    /// Reads one partition's record without claiming it.
    public func loadPartition(_ tp: TopicPartition) throws(StateStoreError) -> PartitionRecord {
        let key = partitionKey(tp)
        let reply = try run { c throws(RedisError) in try c.send("HMGET", key, "applied", "max_event_ms", "epoch") }
        guard let fields = reply.array, fields.count == 3 else {
            throw .unexpectedReply("HMGET \(key): \(reply)")
        }
        return PartitionRecord(applied: Self.int(fields[0]), maxEventMs: Self.int(fields[1]), epoch: Self.int(fields[2]))
    }

    static func int(_ r: RedisReply) -> Int64? { r.string.flatMap { Int64($0) } }

    /// A load sent by `startLoad` whose replies are still to be read.
    public struct PendingLoad: Sendable {
        var pipeline: PendingPipeline?
        let cardCount: Int
        let owned: [(TopicPartition, [PartitionRecord])]
        /// `addMerchantLookup` appended an HMGET of a merchant-risk snapshot (its reply is the last).
        var merchantLookup = false
        /// The card indices each MGET asked for, in order (one group on a single Redis).
        var cardGroups: [[Int]] = []
    }

    /// What a load read: the card blobs (as `finishLoad`) and the merchant-risk HMGET's reply, if one was sent.
    public struct LoadedState: Sendable {
        public var blobs: [[UInt8]?]
        public var merchants: RedisReply?
    }

    /// Adds to a load sent by `startLoad` the lookup of merchants in a merchant-risk snapshot:
    /// `HMGET {hashKey} field...` (`docs/merchant-risk.md`), in the same pipeline, so the batch still reads all its
    /// state in one round trip. Its reply comes back from `finishLoadWithMerchants`.
    public func addMerchantLookup(to pending: inout PendingLoad, hashKey: String, fields: [[UInt8]])
        throws(StateStoreError)
    {
        var hmget = RedisCommand("HMGET")
        hmget.append(hashKey)
        for field in fields { hmget.append(field) }
        let pipeline = try run { c throws(RedisError) in
            if let sent = pending.pipeline { return try c.extendPipeline(sent, with: [hmget]) }
            return try c.startPipeline([hmget])
        }
        pending.pipeline = pipeline
        pending.merchantLookup = true
    }

    /// Sends the load of one batch and returns at once, so the caller can work while Redis answers: for every
    /// partition an HMGET of its applied offset and epoch, and one MGET of the cards (each the card's state on one
    /// input partition, its id as bytes: a transaction's Kafka key is its card id; cards may repeat, each gets its
    /// own slot). Each partition may be in any of the records given: with batches in flight, Redis holds the record
    /// before them or one that one of them writes. `finishLoad` must be called before anything else is sent through
    /// this store.
    public func startLoad(cards: [(partition: Int32, idBytes: [UInt8])], verifying owned: [(TopicPartition, [PartitionRecord])])
        throws(StateStoreError) -> PendingLoad
    {
        var commands: [RedisCommand] = []
        for (tp, _) in owned {
            var check = RedisCommand("HMGET")
            check.append(partitionKey(tp))
            check.append("applied")
            check.append("epoch")
            commands.append(check)
        }
        var cardGroups: [[Int]] = []
        if !cards.isEmpty {
            // One MGET for all cards on a single Redis; on a cluster one per partition, each on its partition's slot.
            cardGroups = endpoint.cluster ? Self.groupsByPartition(cards.map(\.partition)) : [Array(cards.indices)]
            var keyPrefixes = CardKeyPrefixes(store: self)
            for group in cardGroups {
                var mget = RedisCommand("MGET")
                mget.reserveCapacity(arguments: group.count, bytes: group.count * (prefix.utf8.count + 48))
                for i in group {
                    let keyPrefix = keyPrefixes[cards[i].partition]
                    cards[i].idBytes.withUnsafeBytes { mget.append(keyPrefix, $0) }
                }
                commands.append(mget)
            }
        }
        guard !commands.isEmpty else { return PendingLoad(pipeline: nil, cardCount: 0, owned: owned) }
        let pipeline = try run { c throws(RedisError) in try c.startPipeline(commands) }
        return PendingLoad(pipeline: pipeline, cardCount: cards.count, owned: owned, cardGroups: cardGroups)
    }

    /// The indices of `partitions` grouped by partition, in order of first appearance.
    static func groupsByPartition(_ partitions: [Int32]) -> [[Int]] {
        var slotOf: [Int32: Int] = [:]
        var groups: [[Int]] = []
        for (i, partition) in partitions.enumerated() {
            if let slot = slotOf[partition] {
                groups[slot].append(i)
            } else {
                slotOf[partition] = groups.count
                groups.append([i])
            }
        }
        return groups
    }

    /// Reads the replies of `startLoad`: the blobs in the order of its ids (nil where Redis has none), after checking
    /// every partition. A partition that is not as expected (Redis lost writes, or another instance claimed it)
    /// throws `.fenced` before anything is computed or emitted from state that is not there.
    public func finishLoad(_ pending: PendingLoad) throws(StateStoreError) -> [[UInt8]?] {
        try finishLoadWithMerchants(pending).blobs
    }

    /// `finishLoad`, with the reply of the merchant lookup `addMerchantLookup` added (nil if none was added).
    public func finishLoadWithMerchants(_ pending: PendingLoad) throws(StateStoreError) -> LoadedState {
        guard let pipeline = pending.pipeline else { return LoadedState(blobs: [], merchants: nil) }
        var replies = try run { c throws(RedisError) in try c.finishPipeline(pipeline) }
        let merchants = pending.merchantLookup ? replies.removeLast() : nil
        let owned = pending.owned
        for (i, (tp, acceptable)) in owned.enumerated() {
            guard let fields = replies[i].array, fields.count == 2 else {
                throw .unexpectedReply("HMGET of \(tp): \(replies[i])")
            }
            let current = PartitionRecord(applied: Self.int(fields[0]), maxEventMs: nil, epoch: Self.int(fields[1]))
            if !PartitionFence.admitsLoad(current: current, acceptable: acceptable) {
                throw .fenced(FenceReport(partition: tp, current: current))
            }
        }
        guard pending.cardCount > 0 else { return LoadedState(blobs: [], merchants: merchants) }
        if pending.cardGroups.count == 1 {
            guard let values = replies[owned.count].array, values.count == pending.cardCount else {
                throw .unexpectedReply("MGET of \(pending.cardCount) keys: \(replies[owned.count])")
            }
            return LoadedState(blobs: values.map { $0.bytes }, merchants: merchants)
        }
        var blobs = [[UInt8]?](repeating: nil, count: pending.cardCount)
        for (g, group) in pending.cardGroups.enumerated() {
            let reply = replies[owned.count + g]
            guard let values = reply.array, values.count == group.count else {
                throw .unexpectedReply("MGET of \(group.count) keys: \(reply)")
            }
            for (i, value) in zip(group, values) { blobs[i] = value.bytes }
        }
        return LoadedState(blobs: blobs, merchants: merchants)
    }

    /// Writes one batch atomically: fails with `.fenced` (writing nothing) if any partition's applied offset is not
    /// the expected one. On a Redis Cluster each partition is written by a script of its own, on its own slot: each
    /// partition's cards still move only with its offset, under its fence, but partitions can land apart, reported
    /// as `.partial` (the partitions stored, and why the others were not).
    public func write(partitions: [PartitionUpdate], cards: [(card: CardKey, blob: [UInt8])], ttlMs: Int64)
        throws(StateStoreError)
    {
        try write(partitions: partitions, writes: cards.map { ($0.card, CardStateWrite(value: $0.blob)) }, ttlMs: ttlMs)
    }

    /// `write`, with each card's log change (busy cards, `CardState.stateWrite()`).
    public func write(partitions: [PartitionUpdate], writes cards: [(card: CardKey, write: CardStateWrite)], ttlMs: Int64)
        throws(StateStoreError)
    {
        if endpoint.cluster {
            try writeEach(partitions: partitions, cards: cards, ttlMs: ttlMs)
            return
        }
        let command = batchCommand(partitions: partitions, cards: cards[...], ttlMs: ttlMs)
        let reply = try run { c throws(RedisError) in try c.eval(Self.batchScript, command: command) }
        try check(reply, of: partitions)
    }

    /// The cluster write: one batch script per partition, pipelined (one round trip per node).
    func writeEach(partitions: [PartitionUpdate], cards: [(card: CardKey, write: CardStateWrite)], ttlMs: Int64)
        throws(StateStoreError)
    {
        var cardsOf: [Int32: [(card: CardKey, write: CardStateWrite)]] = [:]
        for card in cards { cardsOf[card.card.partition, default: []].append(card) }
        for partition in cardsOf.keys where !partitions.contains(where: { $0.partition.partition == partition }) {
            throw .unexpectedReply("a batch holds cards of partition \(partition) without that partition's record")
        }
        let commands = partitions.map { p in
            batchCommand(partitions: [p], cards: (cardsOf[p.partition.partition] ?? [])[...], ttlMs: ttlMs)
        }
        var results = try run { c throws(RedisError) in try c.pipelineEach(commands) }
        // Scripts are not replicated: a promoted replica, or a node that restarted, answers NOSCRIPT until loaded.
        // A failure while loading or resending fails only those commands: the others' results stand.
        let unknown = results.indices.filter { (try? results[$0].get())?.isNoScript ?? false }
        if !unknown.isEmpty {
            let retried = Result { () throws(StateStoreError) in
                try run { c throws(RedisError) in
                    try c.load(Self.batchScript)
                    return try c.pipelineEach(unknown.map { commands[$0] })
                }
            }
            for (k, i) in unknown.enumerated() {
                switch retried {
                case .success(let replies): results[i] = replies[k]
                case .failure(.redis(let error)): results[i] = .failure(error)
                case .failure(let error): results[i] = .failure(RedisError(kind: .io, message: "\(error)"))
                }
            }
        }
        var stored: [TopicPartition] = []
        // A node that failed decides over a fence (the pipeline pauses for it; a fence is found again on the retry).
        var unreachable: StateStoreError?
        var refused: StateStoreError?
        for (p, result) in zip(partitions, results) {
            switch result {
            case .success(let reply):
                let checked = Result { () throws(StateStoreError) in try check(reply, of: [p]) }
                switch checked {
                case .success: stored.append(p.partition)
                case .failure(let error): refused = refused ?? error
                }
            case .failure(let error):
                unreachable = unreachable ?? .redis(error)
            }
        }
        guard let failure = unreachable ?? refused else { return }
        throw stored.isEmpty ? failure : .partial(stored: stored, failure: failure)
    }

    /// `EVALSHA batch` over `partitions` and `cards` (see `batchScript`).
    func batchCommand(
        partitions: [PartitionUpdate], cards: ArraySlice<(card: CardKey, write: CardStateWrite)>, ttlMs: Int64
    ) -> RedisCommand {
        let logs = cards.filter { $0.write.log != .keep }
        var command = RedisCommand(evalSHA: Self.batchScript, keyCount: partitions.count + cards.count + logs.count)
        for p in partitions { command.append(partitionKey(p.partition)) }
        var keyPrefixes = CardKeyPrefixes(store: self)
        for card in cards {
            let keyPrefix = keyPrefixes[card.card.partition]
            var id = card.card.cardId
            id.withUTF8 { command.append(keyPrefix, UnsafeRawBufferPointer($0)) }
        }
        for card in logs {
            let keyPrefix = logKeyPrefix(partition: card.card.partition)
            var id = card.card.cardId
            id.withUTF8 { command.append(keyPrefix, UnsafeRawBufferPointer($0)) }
        }
        command.append(Int64(partitions.count))
        command.append(ttlMs)
        command.append(Int64(cards.count))
        func text(_ v: Int64?) -> String { v.map(String.init) ?? "" }
        for p in partitions {
            command.append(text(p.expected.epoch))
            command.append(text(p.expected.applied))
            command.append(text(p.updated.applied))
            command.append(text(p.updated.maxEventMs))
        }
        for card in cards { command.append(card.write.value) }
        for card in logs {
            switch card.write.log {
            case .append(let bytes):
                command.append("A")
                command.append(bytes)
            case .replace(let bytes):
                command.append("S")
                command.append(bytes)
            case .delete, .keep:
                command.append("D")
                command.append("")
            }
        }
        return command
    }

    /// `<prefix>:{<tag>}:log:`, to which a card id's bytes are appended.
    func logKeyPrefix(partition: Int32) -> [UInt8] { Array(keys.logKeyPrefix(partition: partition).utf8) }

    /// The event logs of busy cards (their card keys held headers, `CardState.isHeader`), in the order given: one
    /// round trip of one `LRANGE` per log (on a cluster, each to its slot's master), the chunks joined. Nil where Redis
    /// has none. A log still stored as one string (written before logs were lists) is read with `GET` in a second
    /// round trip; the batch script makes it a list on its next append.
    public func loadLogs(_ cards: [(partition: Int32, idBytes: [UInt8])]) throws(StateStoreError) -> [[UInt8]?] {
        guard !cards.isEmpty else { return [] }
        var prefixes: [Int32: [UInt8]] = [:]
        func command(_ name: String, _ i: Int) -> RedisCommand {
            let keyPrefix = prefixes[cards[i].partition] ?? logKeyPrefix(partition: cards[i].partition)
            prefixes[cards[i].partition] = keyPrefix
            var command = RedisCommand(name)
            cards[i].idBytes.withUnsafeBytes { command.append(keyPrefix, $0) }
            if name == "LRANGE" {
                command.append("0")
                command.append("-1")
            }
            return command
        }
        let replies = try run { c throws(RedisError) in try c.pipeline(cards.indices.map { command("LRANGE", $0) }) }
        var logs = [[UInt8]?](repeating: nil, count: cards.count)
        var strings: [Int] = []
        for (i, reply) in replies.enumerated() {
            if reply.errorCode == "WRONGTYPE" {
                strings.append(i)
                continue
            }
            guard let chunks = reply.array else { throw .unexpectedReply("LRANGE of a card log: \(reply)") }
            guard !chunks.isEmpty else { continue }
            var log: [UInt8] = []
            for chunk in chunks {
                guard let bytes = chunk.bytes else { throw .unexpectedReply("LRANGE of a card log: \(reply)") }
                log += bytes
            }
            logs[i] = log
        }
        if !strings.isEmpty {
            let values = try run { c throws(RedisError) in try c.pipeline(strings.map { command("GET", $0) }) }
            for (i, value) in zip(strings, values) {
                if let message = value.errorMessage { throw .unexpectedReply("GET of a card log: \(message)") }
                logs[i] = value.bytes
            }
        }
        return logs
    }

    /// The batch script's reply: the number of cards written, or the first partition that did not match.
    func check(_ reply: RedisReply, of partitions: [PartitionUpdate]) throws(StateStoreError) {
        switch reply {
        case .integer:
            return
        case .array(let fields) where fields.count == 4 && fields[0].string == "FENCED":
            guard let i = fields[1].int, i >= 1, Int(i) <= partitions.count else {
                throw .unexpectedReply("batch script: \(reply)")
            }
            throw .fenced(FenceReport(
                partition: partitions[Int(i) - 1].partition,
                current: PartitionRecord(
                    applied: Self.int(fields[2]), maxEventMs: nil, epoch: Self.int(fields[3]))))
        default:
            throw .unexpectedReply("batch script: \(reply)")
        }
    }

    /// Checks that Redis answers.
    public func ping() throws(StateStoreError) {
        _ = try run { c throws(RedisError) in try c.send("PING") }
    }
}

/// The card key prefix of each partition, built once per batch (records come in runs per partition, so this is
/// usually one comparison per card).
struct CardKeyPrefixes {
    let store: StateStore
    private var last: (partition: Int32, prefix: [UInt8])?
    private var built: [Int32: [UInt8]] = [:]

    init(store: StateStore) { self.store = store }

    subscript(partition: Int32) -> [UInt8] {
        mutating get {
            if let last, last.partition == partition { return last.prefix }
            let prefix = built[partition] ?? store.cardKeyPrefix(partition: partition)
            built[partition] = prefix
            last = (partition, prefix)
            return prefix
        }
    }
}
