import Redis
import VigilCore

public enum MerchantRiskChannelError: Error, CustomStringConvertible, Sendable {
    case redis(RedisError)
    /// Redis refused the switch (the snapshot's hash is incomplete: a publish that did not finish); nothing changed.
    case refused(String)
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .redis(let e): "\(e)"
        case .refused(let why): why
        case .unexpectedReply(let s): "unexpected Redis reply: \(s)"
        }
    }
}

/// What a publish did.
public struct MerchantRiskPublication: Sendable, Equatable {
    public var version: String
    /// False when the version was already current: nothing was written.
    public var switched: Bool
    /// The version served before (now expiring), if any.
    public var previous: String?
    /// Hash fields written (merchants plus the totals field), and the commands they took.
    public var fields: Int
    public var commands: Int
}

/// Merchant-risk snapshots in Redis (docs/merchant-risk.md, "In Redis"): `<prefix>:{mrisk}:<version>` is a hash from
/// `merchant_id` to `MerchantRiskCounts.redisValue`, with the totals under the field `""`; `<prefix>:{mrisk}:current`
/// names the served version. A publish writes the whole hash under a one-day expiry first, then switches `current`
/// in one script that checks the hash is complete, so a publisher that dies half-way leaves a key that expires and
/// never a served half-table; the previous version expires a while later, for instances that have not switched yet.
///
/// Owns one connection, opened on first use and reopened after a failure. Blocking and not thread-safe.
public final class MerchantRiskChannel: @unchecked Sendable {
    public let endpoint: RedisEndpoint
    public var host: String { endpoint.host }
    public var port: Int { endpoint.port }
    public let prefix: String
    let timeoutMs: Int
    var connection: (any RedisClient)?

    /// Fields per `HSET`.
    public static let fieldsPerCommand = 1000
    /// Staging commands sent per round trip.
    static let commandsPerRoundTrip = 8
    /// Expiry of a snapshot while it is being written.
    public static let stagingExpiryMs: Int64 = 86_400_000
    public static let defaultKeepPreviousMs: Int64 = 3_600_000

    /// Writes one chunk of fields and, unless the snapshot is the served one, (re)sets its staging expiry in the same
    /// step, so no field is ever visible in a key without an expiry that is not served. KEYS: snapshot, current.
    /// ARGV: staging expiry ms, version, field, value, field, value, ...
    static let stageScript = RedisScript("""
        local n = redis.call('HSET', KEYS[1], unpack(ARGV, 3))
        if redis.call('GET', KEYS[2]) ~= ARGV[2] then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """)

    /// Serves a fully written snapshot: checks its field count, removes its expiry, points `current` at it and gives
    /// the previous version an expiry. KEYS: current, snapshot. ARGV: version, expected fields, keep-previous ms, the
    /// snapshot key prefix (`<prefix>:{mrisk}:`). Returns 1 when switched, 0 when the version was already current.
    static let switchScript = RedisScript("""
        local current = redis.call('GET', KEYS[1])
        if current == ARGV[1] then return 0 end
        local n = redis.call('HLEN', KEYS[2])
        if n ~= tonumber(ARGV[2]) then
          return redis.error_reply('INCOMPLETE snapshot ' .. ARGV[1] .. ' holds ' .. n .. ' fields, expected ' .. ARGV[2] .. '; current left at ' .. tostring(current))
        end
        redis.call('PERSIST', KEYS[2])
        redis.call('SET', KEYS[1], ARGV[1])
        if current then redis.call('PEXPIRE', ARGV[4] .. current, ARGV[3]) end
        return 1
        """)

    public convenience init(host: String, port: Int, prefix: String, timeoutMs: Int = 5000) {
        self.init(endpoint: RedisEndpoint(host: host, port: port), prefix: prefix, timeoutMs: timeoutMs)
    }

    public init(endpoint: RedisEndpoint, prefix: String, timeoutMs: Int = 5000) {
        self.endpoint = endpoint
        self.prefix = prefix
        self.timeoutMs = timeoutMs
    }

    public static func currentKey(prefix: String) -> String { RedisKeys(prefix: prefix).merchantRiskCurrent }
    public static func snapshotKey(prefix: String, version: String) -> String {
        RedisKeys(prefix: prefix).merchantRiskSnapshot(version: version)
    }
    public var currentKey: String { Self.currentKey(prefix: prefix) }
    public func snapshotKey(_ version: String) -> String { Self.snapshotKey(prefix: prefix, version: version) }

    /// `HOST:PORT` for messages.
    public var address: String { endpoint.address }

    /// The served version, nil when none is published.
    public func current() throws(MerchantRiskChannelError) -> String? {
        let key = currentKey
        return try run { c throws(RedisError) in try c.send("GET", key) }.string
    }

    /// Publishes a snapshot and serves it: stages every field, then switches. Publishing the version that is already
    /// current writes nothing. `merchants` must not hold the same id twice. `progress` gets the fields written so far.
    @discardableResult
    public func publish(
        version: String, totals: MerchantRiskCounts,
        merchants: some Collection<(merchantId: String, counts: MerchantRiskCounts)>,
        keepPreviousMs: Int64 = defaultKeepPreviousMs, progress: (Int) -> Void = { _ in }
    ) throws(MerchantRiskChannelError) -> MerchantRiskPublication {
        let previous = try current()
        if previous == version {
            return MerchantRiskPublication(version: version, switched: false, previous: previous, fields: 0, commands: 0)
        }
        var fields: [(String, String)] = [(MerchantRiskVersion.totalsField, totals.redisValue)]
        var commands = 0
        var written = 0
        var pending: [RedisCommand] = []
        func flush() throws(MerchantRiskChannelError) {
            guard !pending.isEmpty else { return }
            try stage(version: version, commands: pending)
            pending.removeAll(keepingCapacity: true)
            progress(written)
        }
        for (merchantId, counts) in merchants {
            fields.append((merchantId, counts.redisValue))
            if fields.count == Self.fieldsPerCommand {
                pending.append(stageCommand(version: version, fields: fields))
                written += fields.count
                fields.removeAll(keepingCapacity: true)
                if pending.count == Self.commandsPerRoundTrip { try flush() }
            }
        }
        if !fields.isEmpty {
            pending.append(stageCommand(version: version, fields: fields))
            written += fields.count
        }
        commands = (written + Self.fieldsPerCommand - 1) / Self.fieldsPerCommand
        try flush()
        let switched = try switchTo(version: version, expectedFields: written, keepPreviousMs: keepPreviousMs)
        return MerchantRiskPublication(
            version: version, switched: switched, previous: previous, fields: switched ? written : 0, commands: commands)
    }

    /// One staging command: `EVALSHA stage 2 snapshot current expiry version f v f v ...`.
    func stageCommand(version: String, fields: [(String, String)]) -> RedisCommand {
        var command = RedisCommand(evalSHA: Self.stageScript, keyCount: 2)
        command.reserveCapacity(arguments: 4 + 2 * fields.count, bytes: 64 * (fields.count + 1))
        command.append(snapshotKey(version))
        command.append(currentKey)
        command.append(Self.stagingExpiryMs)
        command.append(version)
        for (field, value) in fields {
            command.append(field)
            command.append(value)
        }
        return command
    }

    /// Sends staging commands in one round trip (loading the script if the server does not know it).
    func stage(version: String, commands: [RedisCommand]) throws(MerchantRiskChannelError) {
        var replies = try run { c throws(RedisError) in try c.pipeline(commands) }
        if replies.contains(where: \.isNoScript) {
            replies = try run { c throws(RedisError) in
                try c.load(Self.stageScript)
                return try c.pipeline(commands)
            }
        }
        for reply in replies {
            guard case .integer = reply else { throw .unexpectedReply("staging \(snapshotKey(version)): \(reply)") }
        }
    }

    /// Serves `version` if its hash holds `expectedFields` fields; false if it was already current.
    func switchTo(version: String, expectedFields: Int, keepPreviousMs: Int64) throws(MerchantRiskChannelError) -> Bool {
        let keys = [currentKey, snapshotKey(version)].map { Array($0.utf8) }
        let args = [version, "\(expectedFields)", "\(keepPreviousMs)", RedisKeys(prefix: prefix).merchantRiskPrefix].map { Array($0.utf8) }
        let reply = try run { c throws(RedisError) in try c.eval(Self.switchScript, keys: keys, args: args) }
        switch reply {
        case .integer(let n): return n == 1
        case .error(let message): throw .refused(ModelChannel.stripCode(message))
        default: throw .unexpectedReply("switch script: \(reply)")
        }
    }

    /// The counts of `merchants` in snapshot `version` (nil where the field is missing), with the totals first: one
    /// `HMGET`, as the pipeline reads them. For operators and tests.
    public func lookup(version: String, merchants: [String]) throws(MerchantRiskChannelError) -> [MerchantRiskCounts?] {
        let command = RedisCommand(["HMGET", snapshotKey(version), MerchantRiskVersion.totalsField] + merchants)
        let reply = try run { c throws(RedisError) in try c.send(command) }
        guard let values = reply.array, values.count == merchants.count + 1 else { throw .unexpectedReply("HMGET: \(reply)") }
        return values.map { $0.bytes.flatMap { MerchantRiskCounts(redisValue: $0) } }
    }

    /// `used_memory` of the server (INFO memory), for measurements.
    public func usedMemoryBytes() throws(MerchantRiskChannelError) -> Int64 {
        let reply = try run { c throws(RedisError) in try c.send("INFO", "memory") }
        guard let text = reply.string,
              let line = text.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("used_memory:") }),
              let bytes = Int64(line.dropFirst("used_memory:".count)) else { throw .unexpectedReply("INFO memory: \(reply)") }
        return bytes
    }

    public func close() {
        connection?.close()
        connection = nil
    }

    func run<T>(_ body: (any RedisClient) throws(RedisError) -> T) throws(MerchantRiskChannelError) -> T {
        do {
            if connection == nil || connection!.isBroken {
                connection?.close()
                connection = nil
                connection = try endpoint.open(connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs)
            }
            return try body(connection!)
        } catch {
            if connection?.isBroken == true { connection = nil }
            throw .redis(error)
        }
    }
}
