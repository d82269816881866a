/// One synchronous connection to a Redis server.
///
/// Calls block the calling thread until the reply arrives or the command timeout passes, so call them from a
/// dedicated thread or queue, never from Swift's cooperative pool. Not thread-safe: use from one thread at a
/// time (hence `@unchecked Sendable`: it may move between threads, it may not be shared by them).
///
/// A connection-level failure (I/O error, server closed the connection, timeout, protocol error) marks the
/// connection broken; later calls throw at once without touching the network until ``reconnect()`` succeeds.
/// Nothing retries or reconnects behind the caller's back, because only the caller knows whether a command
/// that may or may not have run is safe to send again.
public final class RedisConnection: RedisClient, @unchecked Sendable {
    /// The server, credentials and TLS settings given at creation.
    public let endpoint: RedisEndpoint
    /// The host given at creation.
    public var host: String { endpoint.host }
    /// The port given at creation.
    public var port: Int { endpoint.port }
    /// How long opening the connection may take; `0` or less waits as long as the OS does.
    public let connectTimeoutMs: Int
    /// How long a single socket read or write may wait; `0` or less waits forever. It bounds each wait, not a
    /// whole pipeline: a long pipeline is fine as long as replies keep arriving.
    public let commandTimeoutMs: Int

    /// `nil` after ``close()`` or once broken.
    private var context: RedisWire?
    /// Why the connection is broken, until ``reconnect()`` succeeds.
    private var brokenBy: RedisError?
    /// SHA-1s of scripts this connection has loaded since it last connected.
    var loadedScripts: Set<String> = []

    /// Connects to a plain-TCP server without credentials (see ``init(endpoint:connectTimeoutMs:commandTimeoutMs:)``).
    public convenience init(host: String, port: Int, connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000)
        throws(RedisError)
    {
        try self.init(
            endpoint: RedisEndpoint(host: host, port: port), connectTimeoutMs: connectTimeoutMs,
            commandTimeoutMs: commandTimeoutMs)
    }

    /// Connects with `redisConnectWithTimeout`, sets the command timeout on the socket, shakes hands over TLS if the
    /// endpoint asks for it (``TLSTransport``: OpenSSL, the server's certificate verified), and authenticates if the
    /// endpoint has credentials.
    ///
    /// - Throws: ``RedisError`` of kind ``RedisError/Kind/connect`` naming host:port and the reason, or
    ///   ``RedisError/Kind/auth`` if the server refuses the credentials. A refused certificate is a
    ///   ``RedisError/Kind/connect`` whose message gives OpenSSL's reason.
    public init(endpoint: RedisEndpoint, connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000) throws(RedisError) {
        self.endpoint = endpoint
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        self.context = try Self.open(endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
    }

    /// A connected, authenticated context.
    private static func open(_ endpoint: RedisEndpoint, connectTimeoutMs: Int, commandTimeoutMs: Int)
        throws(RedisError) -> RedisWire
    {
        let context = try RedisWire.open(endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        if let credentials = endpoint.credentials { try authenticate(context, credentials, endpoint) }
        return context
    }

    /// `AUTH [user] password`. The reply to a refusal names no secret, and neither does the error.
    private static func authenticate(_ context: RedisWire, _ credentials: RedisCredentials, _ endpoint: RedisEndpoint)
        throws(RedisError)
    {
        var auth = RedisCommand("AUTH")
        if let user = credentials.user { auth.append(user) }
        auth.append(credentials.password)
        let reply = try context.command(auth)
        if case .error(let message) = reply {
            throw RedisError(
                kind: .auth,
                message: "redis at \(endpoint.address) refused the credentials of \(credentials): \(message)")
        }
    }

    /// `true` after a connection-level failure, until ``reconnect()`` succeeds.
    public var isBroken: Bool { brokenBy != nil }

    /// `true` after ``close()``, until ``reconnect()`` succeeds.
    public private(set) var isClosed = false

    /// Sends one command and waits for its reply. Server errors come back as ``RedisReply/error(_:)``.
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        let context = try usableContext()
        try Self.validate(command)
        do {
            return try context.command(command)
        } catch {
            throw markBroken(error)
        }
    }

    /// Sends all commands in one round trip and returns their replies in order.
    ///
    /// Every command is appended to hiredis's output buffer (`redisAppendCommandArgv`), the buffer is written, then
    /// the replies are read (`redisGetReply`). A command the server rejects yields an ``RedisReply/error(_:)`` in
    /// its slot and the others still run. An I/O failure throws and marks the connection broken; which commands ran
    /// is then unknown.
    public func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try finishPipeline(startPipeline(commands))
    }

    /// The first half of `pipeline`: sends all commands now and returns without waiting for their replies, so the
    /// caller can work while the server does; `finishPipeline` then reads them. Nothing else may be sent on this
    /// connection in between.
    public func startPipeline(_ commands: [RedisCommand]) throws(RedisError) -> PendingPipeline {
        let context = try usableContext()
        for command in commands { try Self.validate(command) }
        do {
            for command in commands { try context.append(command) }
            try context.flushOutput(doing: "sending a pipeline of \(commands.count) commands")
        } catch {
            throw markBroken(error)
        }
        return PendingPipeline(names: commands.map(\.name))
    }

    /// Sends more commands on a pipeline sent by `startPipeline` whose replies are still unread: `finishPipeline` of
    /// the returned value reads the replies of both, in order. The server answers the first commands meanwhile, so
    /// this adds no round trip: a caller that learns what else to ask only after sending (a batch's merchants, known
    /// once its records are decoded) still reads everything in one.
    public func extendPipeline(_ pending: PendingPipeline, with commands: [RedisCommand]) throws(RedisError)
        -> PendingPipeline
    {
        let context = try usableContext()
        for command in commands { try Self.validate(command) }
        do {
            for command in commands { try context.append(command) }
            try context.flushOutput(doing: "sending \(commands.count) more commands of a pipeline")
        } catch {
            throw markBroken(error)
        }
        return PendingPipeline(names: pending.names + commands.map(\.name))
    }

    /// The second half of `pipeline`: reads the replies of a pipeline sent by `startPipeline`, in order.
    public func finishPipeline(_ pending: PendingPipeline) throws(RedisError) -> [RedisReply] {
        let context = try usableContext()
        do {
            var replies: [RedisReply] = []
            replies.reserveCapacity(pending.names.count)
            for (index, name) in pending.names.enumerated() {
                replies.append(try context.nextReply(
                    doing: "reading reply \(index + 1) of \(pending.names.count) (\(name)) in a pipeline"
                ))
            }
            return replies
        } catch {
            throw markBroken(error)
        }
    }

    /// Drops the current connection, if any, and opens a fresh one to the same host and port with the same
    /// timeouts. Clears the broken and closed states on success; scripts are loaded again on next use.
    ///
    /// A fresh context (rather than hiredis's `redisReconnect`) re-applies the command timeout exactly as the
    /// first connect did.
    public func reconnect() throws(RedisError) {
        context = nil
        loadedScripts.removeAll()
        do {
            context = try Self.open(endpoint, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
            brokenBy = nil
            isClosed = false
        } catch {
            brokenBy = error
            throw error
        }
    }

    /// Closes the socket and frees the hiredis context (and the TLS session). Later calls throw until ``reconnect()``.
    /// Also happens on deinit.
    public func close() {
        context = nil
        loadedScripts.removeAll()
        isClosed = true
    }

    // MARK: - Internals

    private func usableContext() throws(RedisError) -> RedisWire {
        if let brokenBy {
            throw RedisError(
                kind: brokenBy.kind == .timeout ? .io : brokenBy.kind,
                message: "redis connection to \(host):\(port) is broken (\(brokenBy.message)); reconnect first"
            )
        }
        guard let context else {
            throw RedisError(kind: .io, message: "redis connection to \(host):\(port) is closed; reconnect first")
        }
        return context
    }

    private static func validate(_ command: RedisCommand) throws(RedisError) {
        if command.count == 0 {
            throw RedisError(kind: .protocolError, message: "cannot send an empty redis command (no name)")
        }
    }

    /// Every error from hiredis leaves the socket in an unknown state (a reply may still be in flight), so the
    /// context is dropped at once, closing its socket.
    private func markBroken(_ error: RedisError) -> RedisError {
        brokenBy = error
        context = nil
        loadedScripts.removeAll()
        return error
    }
}

/// A pipeline sent by `RedisConnection.startPipeline` whose replies have not been read yet.
public struct PendingPipeline: Sendable {
    let names: [String]
    /// Which node got which commands, for a `RedisClusterClient` pipeline; nil for one connection's.
    var cluster: RedisClusterPipeline? = nil
}
