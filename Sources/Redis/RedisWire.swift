/// What a ``RedisConnection`` talks through: hiredis's own socket (plain TCP, the path the benchmarks measured) or
/// OpenSSL's (``HiredisTLSContext``). Both buffer and fail alike, so the connection does not care which it has.
enum RedisWire {
    case plain(HiredisContext)
    case tls(HiredisTLSContext)

    /// Opens the wire the endpoint asks for.
    static func open(_ endpoint: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int) throws(RedisError) -> RedisWire {
        if let tls = endpoint.tls {
            return .tls(try HiredisTLSContext(
                host: endpoint.host, port: endpoint.port, options: tls, connectTimeoutMs: connectTimeoutMs,
                commandTimeoutMs: commandTimeoutMs))
        }
        return .plain(try HiredisContext(
            host: endpoint.host, port: endpoint.port, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs))
    }

    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        switch self {
        case .plain(let context): try context.command(command)
        case .tls(let context): try context.command(command)
        }
    }

    func append(_ command: RedisCommand) throws(RedisError) {
        switch self {
        case .plain(let context): try context.append(command)
        case .tls(let context): try context.append(command)
        }
    }

    func flushOutput(doing what: @autoclosure () -> String) throws(RedisError) {
        switch self {
        case .plain(let context): try context.flushOutput(doing: what())
        case .tls(let context): try context.flushOutput(doing: what())
        }
    }

    func nextReply(doing what: @autoclosure () -> String) throws(RedisError) -> RedisReply {
        switch self {
        case .plain(let context): try context.nextReply(doing: what())
        case .tls(let context): try context.nextReply(doing: what())
        }
    }
}
