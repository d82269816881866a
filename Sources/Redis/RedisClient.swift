/// What the rest of Vigil asks of Redis, whether one server (`RedisConnection`) or a Redis Cluster
/// (`RedisClusterClient`, which routes every command by its key's slot). Blocking and not thread-safe, like a
/// connection: one thread at a time.
public protocol RedisClient: AnyObject, Sendable {
    /// The endpoint the client was opened for (a cluster's seed).
    var endpoint: RedisEndpoint { get }
    /// `true` after a connection-level failure: throw the client away (or reconnect it) before sending more.
    var isBroken: Bool { get }
    /// Sends one command and waits for its reply. Server errors come back as ``RedisReply/error(_:)``.
    func send(_ command: RedisCommand) throws(RedisError) -> RedisReply
    /// Sends all commands in one round trip (per node) and returns their replies in order.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply]
    /// Sends commands now; `finishPipeline` reads their replies. Nothing else may be sent in between.
    func startPipeline(_ commands: [RedisCommand]) throws(RedisError) -> PendingPipeline
    /// Sends more commands on a pipeline whose replies are unread; `finishPipeline` reads both, in order.
    func extendPipeline(_ pending: PendingPipeline, with commands: [RedisCommand]) throws(RedisError) -> PendingPipeline
    /// `pipeline` with a result per command (see the default implementation).
    func pipelineEach(_ commands: [RedisCommand]) throws(RedisError) -> [Result<RedisReply, RedisError>]
    /// Reads the replies of a pipeline sent by `startPipeline`, in order.
    func finishPipeline(_ pending: PendingPipeline) throws(RedisError) -> [RedisReply]
    /// Runs a prebuilt `EVALSHA` of `script`, loading the script where the server has not got it (NOSCRIPT).
    func eval(_ script: RedisScript, command: RedisCommand) throws(RedisError) -> RedisReply
    /// Loads `script` into the script cache of the server (of every master, for a cluster), for callers that pipeline
    /// `EVALSHA` commands themselves and see ``RedisReply/isNoScript`` replies.
    func load(_ script: RedisScript) throws(RedisError)
    /// Closes every connection.
    func close()
}

extension RedisClient {
    /// `pipeline`, with a result per command: a client that talks to several servers (a cluster) reports a failed
    /// server's commands as failed and the others' replies, so a caller can tell which commands surely ran. One
    /// server's failure leaves every command unknown, so this default throws as `pipeline` does.
    public func pipelineEach(_ commands: [RedisCommand]) throws(RedisError) -> [Result<RedisReply, RedisError>] {
        try pipeline(commands).map { .success($0) }
    }

    /// Sends a command given as text parts, the first being its name: `send("GET", "key")`.
    public func send(_ parts: String...) throws(RedisError) -> RedisReply {
        try send(RedisCommand(parts))
    }

    /// Runs `script` with EVALSHA (see ``eval(_:command:)``).
    public func eval(_ script: RedisScript, keys: [[UInt8]], args: [[UInt8]]) throws(RedisError) -> RedisReply {
        try eval(script, command: RedisCommand(evalSHA: script, keys: keys, args: args))
    }
}
