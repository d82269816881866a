import Foundation
import Redis
import VigilCore

/// The two models an instance runs: the one that decides, and optionally a candidate scored beside it.
public enum ModelSlot: String, Sendable, CaseIterable {
    /// The model whose verdicts are the decisions.
    case active
    /// A candidate scored on the same feature vectors; its verdicts go to the shadow topic and never decide.
    case shadow
}

/// A model as published in Redis: its version and the model file's bytes.
public struct PublishedModel: Sendable, Equatable {
    public var version: String
    public var json: [UInt8]

    public init(version: String, json: [UInt8]) {
        self.version = version
        self.json = json
    }
}

public enum ModelChannelError: Error, CustomStringConvertible, Sendable {
    case redis(RedisError)
    /// The model does not load (`ModelFile.parse` and `CompiledModel`); nothing was published.
    case invalidModel(String)
    /// Redis refused the change (a version published twice with different content, no shadow to promote, ...).
    case refused(String)
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .redis(let e): "\(e)"
        case .invalidModel(let why): "invalid model: \(why)"
        case .refused(let why): why
        case .unexpectedReply(let s): "unexpected Redis reply: \(s)"
        }
    }
}

/// Models published through Redis, so that one promotion reaches every instance on every machine (see
/// docs/retraining.md, "Publishing to every instance"). Per slot two keys: `<prefix>:{model}:<slot>` holds the model
/// file's JSON and `<prefix>:{model}:<slot>:version` its version (one hash tag, so every script over them runs on one Redis Cluster slot). Instances poll the two small version keys and fetch a
/// JSON only when its version changes. Writers change both keys of a slot in one Lua script and readers read both with
/// one MGET, so a version is never seen without its JSON.
///
/// Owns one connection, opened on first use and reopened after a failure. Blocking and not thread-safe: use it from
/// one thread or serial queue, off the hot path (the pipeline's connection is never shared).
public final class ModelChannel: @unchecked Sendable {
    public let endpoint: RedisEndpoint
    public var host: String { endpoint.host }
    public var port: Int { endpoint.port }
    public let prefix: String
    let timeoutMs: Int
    var connection: (any RedisClient)?

    /// Sets both keys of a slot, unless that version is already published with other bytes (a version names one
    /// model everywhere: on every decision, in every log). KEYS: json, version. ARGV: json, version. Returns 1 when
    /// published, 0 when exactly this model was already there.
    static let publishScript = RedisScript("""
        if redis.call('GET', KEYS[2]) == ARGV[2] then
          if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
          return redis.error_reply('VERSION version ' .. ARGV[2] .. ' is already published with other content; publish it under a new version')
        end
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        """)

    /// Moves the shadow model to the active slot and empties the shadow slot, atomically. KEYS: shadow json, shadow
    /// version, active json, active version. ARGV: the shadow version the caller expects, or '' for any. Returns the
    /// promoted version.
    static let promoteScript = RedisScript("""
        local version = redis.call('GET', KEYS[2])
        local json = redis.call('GET', KEYS[1])
        if not version or not json then return redis.error_reply('NOSHADOW no shadow model is published') end
        if ARGV[1] ~= '' and version ~= ARGV[1] then
          return redis.error_reply('VERSION the shadow model is ' .. version .. ', not ' .. ARGV[1])
        end
        redis.call('SET', KEYS[3], json)
        redis.call('SET', KEYS[4], version)
        redis.call('DEL', KEYS[1], KEYS[2])
        return version
        """)

    public convenience init(host: String, port: Int, prefix: String, timeoutMs: Int = 1000) {
        self.init(endpoint: RedisEndpoint(host: host, port: port), prefix: prefix, timeoutMs: timeoutMs)
    }

    public init(endpoint: RedisEndpoint, prefix: String, timeoutMs: Int = 1000) {
        self.endpoint = endpoint
        self.prefix = prefix
        self.timeoutMs = timeoutMs
    }

    public func jsonKey(_ slot: ModelSlot) -> String { RedisKeys(prefix: prefix).modelJSON(slot: slot.rawValue) }
    public func versionKey(_ slot: ModelSlot) -> String { RedisKeys(prefix: prefix).modelVersion(slot: slot.rawValue) }

    /// `HOST:PORT` for messages.
    public var address: String { endpoint.address }

    /// The published version of every slot (nil where nothing is published): one MGET of two short values.
    public func versions() throws(ModelChannelError) -> [ModelSlot: String] {
        let slots = ModelSlot.allCases
        let reply = try run { c throws(RedisError) in try c.send(RedisCommand(["MGET"] + slots.map(versionKey))) }
        guard let values = reply.array, values.count == slots.count else { throw .unexpectedReply("MGET: \(reply)") }
        var result: [ModelSlot: String] = [:]
        for (slot, value) in zip(slots, values) { result[slot] = value.string }
        return result
    }

    /// The model published in `slot`, nil if none. Version and JSON come from one MGET, so they belong together.
    public func fetch(_ slot: ModelSlot) throws(ModelChannelError) -> PublishedModel? {
        let reply = try run { c throws(RedisError) in try c.send("MGET", versionKey(slot), jsonKey(slot)) }
        guard let values = reply.array, values.count == 2 else { throw .unexpectedReply("MGET: \(reply)") }
        guard let version = values[0].string, let json = values[1].bytes else { return nil }
        return PublishedModel(version: version, json: json)
    }

    /// Publishes a model file's bytes to `slot` after checking that they load; returns false if exactly this model
    /// was already published there.
    @discardableResult
    public func publish(_ json: [UInt8], to slot: ModelSlot) throws(ModelChannelError) -> Bool {
        let version: String
        do {
            version = try CompiledModel(ModelFile.parse(Data(json))).version
        } catch {
            throw .invalidModel(error.description)
        }
        let reply = try run { c throws(RedisError) in
            try c.eval(Self.publishScript, keys: [Array(jsonKey(slot).utf8), Array(versionKey(slot).utf8)],
                       args: [json, Array(version.utf8)])
        }
        switch reply {
        case .integer(let n): return n == 1
        case .error(let message): throw .refused(Self.stripCode(message))
        default: throw .unexpectedReply("publish script: \(reply)")
        }
    }

    /// Makes the shadow model the active one and empties the shadow slot, in one step. With `expecting`, only if the
    /// shadow is still that version (the one whose shadow metrics were looked at). Returns the promoted version.
    public func promoteShadow(expecting version: String? = nil) throws(ModelChannelError) -> String {
        let keys = [jsonKey(.shadow), versionKey(.shadow), jsonKey(.active), versionKey(.active)].map { Array($0.utf8) }
        let reply = try run { c throws(RedisError) in
            try c.eval(Self.promoteScript, keys: keys, args: [Array((version ?? "").utf8)])
        }
        if case .error(let message) = reply { throw .refused(Self.stripCode(message)) }
        guard let promoted = reply.string else { throw .unexpectedReply("promote script: \(reply)") }
        return promoted
    }

    /// Withdraws the model of `slot` (both keys in one DEL). Instances stop shadow scoring; an emptied active slot
    /// leaves every instance on the model it runs.
    public func clear(_ slot: ModelSlot) throws(ModelChannelError) {
        _ = try run { c throws(RedisError) in try c.send("DEL", jsonKey(slot), versionKey(slot)) }
    }

    public func close() {
        connection?.close()
        connection = nil
    }

    func run<T>(_ body: (any RedisClient) throws(RedisError) -> T) throws(ModelChannelError) -> T {
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

    /// `VERSION the message` -> `the message`.
    static func stripCode(_ message: String) -> String {
        guard let space = message.firstIndex(of: " ") else { return message }
        return String(message[message.index(after: space)...])
    }
}
