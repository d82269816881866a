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

public enum StateStoreError: Error, CustomStringConvertible, Sendable {
    /// A partition's epoch or applied offset is not what this writer expects: another instance claimed it, or
    /// Redis lost writes. Nothing of the batch was written.
    case fenced(FenceReport)
    case redis(RedisError)
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .fenced(let report): "state write fenced: \(report)"
        case .redis(let e): "\(e)"
        case .unexpectedReply(let s): "unexpected Redis reply: \(s)"
        }
    }
}

/// Card and partition state in Redis (layout in `docs/state.md`). Two round trips per batch: the load
/// (`startLoad`/`finishLoad`, one pipeline: the partitions' check and one MGET) and `write` (one atomic script). Not
/// thread-safe: the pipeline thread and the store stage each have their own.
public final class StateStore: @unchecked Sendable {
    let host: String
    let port: Int
    let prefix: String
    var connection: RedisConnection?

    /// Checks every partition's epoch and `applied` against what the writer holds, then writes partition records and
    /// card blobs. Atomic (a Lua script), so card state never moves without its partition's offset, and an instance
    /// that lost a partition (a newer epoch was claimed) cannot write it. KEYS: partition keys, then card keys.
    /// ARGV: partition count, TTL ms, per partition (epoch, expected applied, applied, max_event_ms), then one blob per
    /// card key. Returns the number of cards written, or `{'FENCED', i, applied, epoch}` for the first partition `i`
    /// that does not match.
    static let batchScript = RedisScript("""
        local n = tonumber(ARGV[1])
        for i = 1, n do
          local current = redis.call('HMGET', KEYS[i], 'applied', 'epoch')
          local applied = current[1] or ''
          local epoch = current[2] or ''
          if epoch ~= ARGV[4 * i - 1] or applied ~= ARGV[4 * i] then
            return {'FENCED', i, applied, epoch}
          end
        end
        for i = 1, n do
          redis.call('HSET', KEYS[i], 'applied', ARGV[4 * i + 1], 'max_event_ms', ARGV[4 * i + 2])
        end
        local ttl = ARGV[2]
        local first = 4 * n + 3
        for j = n + 1, #KEYS do
          redis.call('SET', KEYS[j], ARGV[first + j - n - 1], 'PX', ttl)
        end
        return #KEYS - n
        """)

    /// Claims a partition for a new owner: increments its epoch (fencing every earlier owner) and returns the record.
    static let claimScript = RedisScript("""
        local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
        local current = redis.call('HMGET', KEYS[1], 'applied', 'max_event_ms')
        return {current[1] or '', current[2] or '', epoch}
        """)

    public init(host: String, port: Int, prefix: String) {
        self.host = host
        self.port = port
        self.prefix = prefix
    }

    /// `{prefix}:card:`, to which a card id's bytes are appended.
    var cardKeyPrefix: [UInt8] { Array("\(prefix):card:".utf8) }
    func partitionKey(_ tp: TopicPartition) -> String { "\(prefix):part:\(tp.topic):\(tp.partition)" }

    /// The live connection, (re)connecting if needed.
    func live() throws(StateStoreError) -> RedisConnection {
        if let c = connection, !c.isBroken { return c }
        connection?.close()
        connection = nil
        do {
            let c = try RedisConnection(host: host, port: port)
            connection = c
            return c
        } catch {
            throw .redis(error)
        }
    }

    func run<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(StateStoreError) -> T {
        let c = try live()
        do {
            return try body(c)
        } catch {
            if c.isBroken { connection = nil }
            throw .redis(error)
        }
    }

    /// Claims a partition on assignment: a new epoch that fences earlier owners, and what Redis knows of it.
    public func claimPartition(_ tp: TopicPartition) throws(StateStoreError) -> PartitionRecord {
        let key = Array(partitionKey(tp).utf8)
        let reply = try run { c throws(RedisError) in try c.eval(Self.claimScript, keys: [key], args: []) }
        guard let fields = reply.array, fields.count == 3, let epoch = fields[2].int else {
            throw .unexpectedReply("claim of \(tp): \(reply)")
        }
        return PartitionRecord(applied: Self.int(fields[0]), maxEventMs: Self.int(fields[1]), epoch: epoch)
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
        let pipeline: PendingPipeline?
        let cardCount: Int
        let owned: [(TopicPartition, [PartitionRecord])]
    }

    /// Sends the load of one batch and returns at once, so the caller can work while Redis answers: for every
    /// partition an HMGET of its applied offset and epoch, and one MGET of the cards (ids as bytes: a transaction's
    /// Kafka key is its card id; ids may repeat, each gets its own slot). Each partition may be in any of the records
    /// given: with batches in flight, Redis holds the record before them or one that one of them writes.
    /// `finishLoad` must be called before anything else is sent through this store.
    public func startLoad(cardIdBytes: [[UInt8]], verifying owned: [(TopicPartition, [PartitionRecord])])
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
        if !cardIdBytes.isEmpty {
            let keyPrefix = cardKeyPrefix
            var mget = RedisCommand("MGET")
            mget.reserveCapacity(arguments: cardIdBytes.count, bytes: cardIdBytes.count * (keyPrefix.count + 32))
            for id in cardIdBytes { id.withUnsafeBytes { mget.append(keyPrefix, $0) } }
            commands.append(mget)
        }
        guard !commands.isEmpty else { return PendingLoad(pipeline: nil, cardCount: 0, owned: owned) }
        let pipeline = try run { c throws(RedisError) in try c.startPipeline(commands) }
        return PendingLoad(pipeline: pipeline, cardCount: cardIdBytes.count, owned: owned)
    }

    /// Reads the replies of `startLoad`: the blobs in the order of its ids (nil where Redis has none), after checking
    /// every partition. A partition that is not as expected (Redis lost writes, or another instance claimed it)
    /// throws `.fenced` before anything is computed or emitted from state that is not there.
    public func finishLoad(_ pending: PendingLoad) throws(StateStoreError) -> [[UInt8]?] {
        guard let pipeline = pending.pipeline else { return [] }
        let replies = try run { c throws(RedisError) in try c.finishPipeline(pipeline) }
        let owned = pending.owned
        for (i, (tp, acceptable)) in owned.enumerated() {
            guard let fields = replies[i].array, fields.count == 2 else {
                throw .unexpectedReply("HMGET of \(tp): \(replies[i])")
            }
            let current = PartitionRecord(applied: Self.int(fields[0]), maxEventMs: nil, epoch: Self.int(fields[1]))
            if !acceptable.contains(where: { $0.applied == current.applied && $0.epoch == current.epoch }) {
                throw .fenced(FenceReport(partition: tp, current: current))
            }
        }
        guard pending.cardCount > 0 else { return [] }
        guard let values = replies[owned.count].array, values.count == pending.cardCount else {
            throw .unexpectedReply("MGET of \(pending.cardCount) keys: \(replies[owned.count])")
        }
        return values.map { $0.bytes }
    }

    /// Writes one batch atomically: fails with `.fenced` (writing nothing) if any partition's applied offset is not
    /// the expected one.
    public func write(partitions: [PartitionUpdate], cards: [(cardId: String, blob: [UInt8])], ttlMs: Int64)
        throws(StateStoreError)
    {
        var command = RedisCommand(evalSHA: Self.batchScript, keyCount: partitions.count + cards.count)
        for p in partitions { command.append(partitionKey(p.partition)) }
        let keyPrefix = cardKeyPrefix
        for card in cards {
            var id = card.cardId
            id.withUTF8 { command.append(keyPrefix, UnsafeRawBufferPointer($0)) }
        }
        command.append(Int64(partitions.count))
        command.append(ttlMs)
        func text(_ v: Int64?) -> String { v.map(String.init) ?? "" }
        for p in partitions {
            command.append(text(p.expected.epoch))
            command.append(text(p.expected.applied))
            command.append(text(p.updated.applied))
            command.append(text(p.updated.maxEventMs))
        }
        for card in cards { command.append(card.blob) }
        let reply = try run { c throws(RedisError) in try c.eval(Self.batchScript, command: command) }
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
