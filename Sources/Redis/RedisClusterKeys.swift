/// Where a command's keys are, so a cluster client can send it to the master of their slot.
enum RedisClusterKeys: Equatable {
    /// No key: any master can answer (PING, INFO, CONFIG, SCRIPT, CLUSTER, ...).
    case none
    /// One key, at this argument index.
    case at(Int)
    /// Every argument from this index to the end (MGET, DEL, EXISTS, ...).
    case allFrom(Int)
    /// Every other argument from this index (MSET key value key value ...).
    case everyOtherFrom(Int)
    /// Arguments `lowerBound..<upperBound` (a script's keys, BLPOP's keys before the timeout).
    case range(Range<Int>)
    /// Refused: the command holds state on one connection (MULTI, WATCH, SUBSCRIBE) that routing by key would split.
    case unsupported

    /// The key positions of `command`. Commands not listed take their key as first argument, as most do.
    init(of command: RedisCommand) {
        let count = command.count
        let name = Self.upperName(of: command)
        if name == "GET" || name == "SET" || name == "HMGET" || name == "HSET" {
            self = count > 1 ? .at(1) : .none
        } else if name == "EVALSHA" || name == "MGET" {
            self = name == "MGET" ? .allFrom(1) : Self.scriptKeys(of: command)
        } else if Self.keyless.contains(name) {
            self = .none
        } else if Self.unsupportedNames.contains(name) {
            self = .unsupported
        } else if Self.allKeys.contains(name) {
            self = .allFrom(1)
        } else if name == "MSET" || name == "MSETNX" {
            self = .everyOtherFrom(1)
        } else if Self.scripts.contains(name) {
            self = Self.scriptKeys(of: command)
        } else if Self.keysThenTimeout.contains(name) {
            self = .range(1..<max(1, count - 1))
        } else if Self.twoKeys.contains(name) {
            self = .range(1..<min(count, 3))
        } else if name == "OBJECT" || name == "MEMORY" {
            self = count > 2 ? .at(2) : .none
        } else if name == "XREAD" || name == "XREADGROUP" {
            self = Self.streamKeys(of: command)
        } else {
            self = count > 1 ? .at(1) : .none
        }
    }

    /// The argument indices of the keys, in order.
    func indices(count: Int) -> [Int] {
        switch self {
        case .none, .unsupported: []
        case .at(let index): index < count ? [index] : []
        case .allFrom(let start): start < count ? Array(start..<count) : []
        case .everyOtherFrom(let start): start < count ? Array(stride(from: start, to: count, by: 2)) : []
        case .range(let range): Array(range.clamped(to: 0..<count))
        }
    }

    /// The command name in capitals; ASCII only, as every Redis command name is.
    private static func upperName(of command: RedisCommand) -> String {
        let name = command.argument(0)
        guard name.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) else {
            return String(decoding: name, as: UTF8.self)
        }
        return String(decoding: name.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }, as: UTF8.self)
    }

    /// `EVAL script numkeys key... arg...`: the `numkeys` arguments after the count.
    private static func scriptKeys(of command: RedisCommand) -> RedisClusterKeys {
        guard command.count > 2 else { return .none }
        var keyCount = 0
        for digit in command.argument(2) {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9"), keyCount < 1_000_000 else { return .none }
            keyCount = keyCount * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return keyCount > 0 ? .range(3..<min(command.count, 3 + keyCount)) : .none
    }

    /// `XREAD [COUNT n] [BLOCK ms] STREAMS key... id...`: the first half of what follows STREAMS.
    private static func streamKeys(of command: RedisCommand) -> RedisClusterKeys {
        for index in 1..<max(1, command.count) where String(decoding: command.argument(index), as: UTF8.self).uppercased() == "STREAMS" {
            let rest = command.count - index - 1
            return rest >= 2 ? .range((index + 1)..<(index + 1 + rest / 2)) : .none
        }
        return .none
    }

    private static let keyless: Set<String> = [
        "PING", "ECHO", "INFO", "CONFIG", "SCRIPT", "CLUSTER", "ACL", "AUTH", "HELLO", "CLIENT", "COMMAND", "DBSIZE",
        "FLUSHALL", "FLUSHDB", "TIME", "LASTSAVE", "DEBUG", "SELECT", "WAIT", "READONLY", "READWRITE", "ASKING",
        "SLOWLOG", "FUNCTION", "LATENCY", "ROLE", "PUBLISH", "PUBSUB", "KEYS", "SCAN", "RANDOMKEY", "SAVE", "BGSAVE",
        "BGREWRITEAOF", "LOLWUT", "SWAPDB", "MODULE", "QUIT", "RESET", "FAILOVER", "REPLICAOF", "SLAVEOF",
    ]
    private static let unsupportedNames: Set<String> = [
        "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
        "PUNSUBSCRIBE", "SUNSUBSCRIBE", "MONITOR", "SHUTDOWN",
    ]
    private static let allKeys: Set<String> = [
        "MGET", "DEL", "UNLINK", "EXISTS", "TOUCH", "PFCOUNT", "PFMERGE", "SINTER", "SUNION", "SDIFF", "SINTERSTORE",
        "SUNIONSTORE", "SDIFFSTORE", "RENAME", "RENAMENX",
    ]
    private static let scripts: Set<String> = ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"]
    private static let keysThenTimeout: Set<String> = ["BLPOP", "BRPOP", "BZPOPMIN", "BZPOPMAX"]
    private static let twoKeys: Set<String> = ["RPOPLPUSH", "LMOVE", "SMOVE", "BRPOPLPUSH", "BLMOVE", "COPY"]
}

extension RedisCommand {
    /// The slot of this command's keys, or nil for a keyless command.
    ///
    /// - Throws: ``RedisError/Kind/protocolError`` before anything is sent when the keys hash to different slots (a
    ///   cluster would answer CROSSSLOT; callers put such keys in one slot with a hash tag), or for a command a
    ///   cluster client cannot route (MULTI, WATCH, SUBSCRIBE: use a script instead).
    func clusterSlot() throws(RedisError) -> Int? {
        let keys = RedisClusterKeys(of: self)
        if keys == .unsupported {
            throw RedisError(
                kind: .protocolError,
                message: "\(name) cannot be sent through a redis cluster client (it holds state on one connection)")
        }
        let indices = keys.indices(count: count)
        if indices.isEmpty { return nil }
        var slots: [Int] = []
        slots.reserveCapacity(indices.count)
        storage.withUnsafeBufferPointer { bytes in
            RedisSlot.table.withUnsafeBufferPointer { table in
                for index in indices {
                    slots.append(RedisSlot.slot(bytes, index == 0 ? 0 : ends[index - 1], ends[index], table: table))
                }
            }
        }
        let slot = slots[0]
        if let other = slots.first(where: { $0 != slot }) {
            throw RedisError(
                kind: .protocolError,
                message: "\(name) has keys in different cluster slots (\(slot) and \(other)); put them in one slot with a hash tag")
        }
        return slot
    }
}
