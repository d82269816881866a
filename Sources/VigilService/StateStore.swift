import Kafka
import Redis
import VigilCore

/// What Redis knows of one partition: the last applied offset and the partition's highest accepted event time.
public struct PartitionRecord: Sendable, Equatable {
    public var applied: Int64?
    public var maxEventMs: Int64?

    public init(applied: Int64? = nil, maxEventMs: Int64? = nil) {
        self.applied = applied
        self.maxEventMs = maxEventMs
    }
}

/// One partition's part of a batch write: the record Vigil read (the fence) and the record after the batch.
public struct PartitionUpdate: Sendable {
    public var partition: TopicPartition
    public var expected: PartitionRecord
    public var updated: PartitionRecord
}

public enum StateStoreError: Error, CustomStringConvertible, Sendable {
    /// Another writer moved a partition's applied offset since Vigil read it: this instance no longer owns it.
    case fenced(String)
    case redis(RedisError)
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .fenced(let s): "state write fenced: \(s)"
        case .redis(let e): "\(e)"
        case .unexpectedReply(let s): "unexpected Redis reply: \(s)"
        }
    }
}

/// Card and partition state in Redis (layout in `docs/state.md`). Two round trips per batch: `loadCards` (one MGET)
/// and `write` (one atomic script). Not thread-safe: one per pipeline.
public final class StateStore: @unchecked Sendable {
    let host: String
    let port: Int
    let prefix: String
    var connection: RedisConnection?

    /// Checks every partition's `applied` against what the writer read, then writes partition records and card
    /// blobs. Atomic (a Lua script), so card state never moves without its partition's offset, or the other way.
    /// KEYS: partition keys, then card keys. ARGV: partition count, TTL ms, per partition (expected applied,
    /// applied, max_event_ms), then one blob per card key.
    static let batchScript = RedisScript("""
        local n = tonumber(ARGV[1])
        for i = 1, n do
          local current = redis.call('HGET', KEYS[i], 'applied') or ''
          local expected = ARGV[3 * i]
          if current ~= expected then
            return redis.error_reply('FENCED ' .. KEYS[i] .. ' applied is ' .. current .. ', writer expected ' .. expected)
          end
        end
        for i = 1, n do
          redis.call('HSET', KEYS[i], 'applied', ARGV[3 * i + 1], 'max_event_ms', ARGV[3 * i + 2])
        end
        local ttl = ARGV[2]
        local first = 3 * n + 3
        for j = n + 1, #KEYS do
          redis.call('SET', KEYS[j], ARGV[first + j - n - 1], 'PX', ttl)
        end
        return #KEYS - n
        """)

    public init(host: String, port: Int, prefix: String) {
        self.host = host
        self.port = port
        self.prefix = prefix
    }

    func cardKey(_ cardId: String) -> String { "\(prefix):card:\(cardId)" }
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

    /// Reads one partition's record (on assignment).
    public func loadPartition(_ tp: TopicPartition) throws(StateStoreError) -> PartitionRecord {
        let key = partitionKey(tp)
        let reply = try run { c throws(RedisError) in try c.send("HMGET", key, "applied", "max_event_ms") }
        guard let fields = reply.array, fields.count == 2 else {
            throw .unexpectedReply("HMGET \(key): \(reply)")
        }
        func int(_ r: RedisReply) -> Int64? { r.string.flatMap { Int64($0) } }
        return PartitionRecord(applied: int(fields[0]), maxEventMs: int(fields[1]))
    }

    /// Reads the blobs of `cardIds` in one MGET; nil where Redis has no state for the card.
    public func loadCards(_ cardIds: [String]) throws(StateStoreError) -> [[UInt8]?] {
        guard !cardIds.isEmpty else { return [] }
        var command = RedisCommand("MGET")
        command.reserveCapacity(arguments: cardIds.count + 1, bytes: cardIds.count * (prefix.utf8.count + 30))
        for id in cardIds { command.append(cardKey(id)) }
        let reply = try run { c throws(RedisError) in try c.send(command) }
        guard let values = reply.array, values.count == cardIds.count else {
            throw .unexpectedReply("MGET of \(cardIds.count) keys: \(reply)")
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
        for card in cards { command.append(cardKey(card.cardId)) }
        command.append(Int64(partitions.count))
        command.append(ttlMs)
        func text(_ v: Int64?) -> String { v.map(String.init) ?? "" }
        for p in partitions {
            command.append(text(p.expected.applied))
            command.append(text(p.updated.applied))
            command.append(text(p.updated.maxEventMs))
        }
        for card in cards { command.append(card.blob) }
        let reply = try run { c throws(RedisError) in try c.eval(Self.batchScript, command: command) }
        if case .error(let message) = reply {
            if message.hasPrefix("FENCED") { throw .fenced(message) }
            throw .unexpectedReply(message)
        }
    }

    /// Checks that Redis answers.
    public func ping() throws(StateStoreError) {
        _ = try run { c throws(RedisError) in try c.send("PING") }
    }
}
