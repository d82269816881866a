/// A Redis Cluster client: routes every command by its key's slot. (Being written; see issue 12.)
public final class RedisClusterClient: RedisClient, @unchecked Sendable {
    public let endpoint: RedisEndpoint
    public var isBroken: Bool { true }

    public init(seed: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int) throws(RedisError) {
        self.endpoint = seed
        throw RedisError(kind: .connect, message: "redis cluster mode is not available yet")
    }

    public func send(_ command: RedisCommand) throws(RedisError) -> RedisReply { throw unavailable }
    public func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] { throw unavailable }
    public func startPipeline(_ commands: [RedisCommand]) throws(RedisError) -> PendingPipeline { throw unavailable }
    public func extendPipeline(_ pending: PendingPipeline, with commands: [RedisCommand]) throws(RedisError)
        -> PendingPipeline
    { throw unavailable }
    public func finishPipeline(_ pending: PendingPipeline) throws(RedisError) -> [RedisReply] { throw unavailable }
    public func eval(_ script: RedisScript, command: RedisCommand) throws(RedisError) -> RedisReply { throw unavailable }
    public func load(_ script: RedisScript) throws(RedisError) { throw unavailable }
    public func close() {}

    private var unavailable: RedisError { RedisError(kind: .connect, message: "redis cluster mode is not available yet") }
}
