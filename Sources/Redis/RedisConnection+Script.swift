extension RedisConnection {
    /// Runs a prebuilt `EVALSHA` command for `script` (see ``RedisCommand/init(evalSHA:keyCount:)``), loading it
    /// first if this connection has not loaded it yet or the server answers NOSCRIPT (after a restart or `SCRIPT FLUSH`). Keys and arguments are binary-safe.
    ///
    /// Loading and running share one round trip (SCRIPT LOAD and EVALSHA pipelined), so a script costs one
    /// round trip in the common case and two right after the server forgot it.
    ///
    /// Errors while the script *runs* (a Lua runtime error, `redis.error_reply`, a failing `redis.call`) are
    /// the script's reply: they come back as ``RedisReply/error(_:)``, as in a pipeline, and are not thrown.
    ///
    /// - Throws: ``RedisError/Kind/script`` if the script does not compile (the message is the server's),
    ///   or connection-level errors as for ``send(_:)-(RedisCommand)``.
    public func eval(_ script: RedisScript, command: RedisCommand) throws(RedisError) -> RedisReply {
        if loadedScripts.contains(script.sha1) {
            let reply = try send(command)
            guard reply.isNoScript else { return reply }
            loadedScripts.remove(script.sha1)
        }
        let replies = try pipeline([Self.scriptLoad(script), command])
        try markLoaded(script, loadReply: replies[0])
        if replies[1].isNoScript {
            throw RedisError(
                kind: .script,
                message: "redis at \(host):\(port) answered NOSCRIPT for script \(script.sha1) right after loading it"
            )
        }
        return replies[1]
    }

    /// Loads `script` into the server's script cache (SCRIPT LOAD), for callers that pipeline `EVALSHA`
    /// commands themselves. After a server restart the cache is empty again: such callers see
    /// ``RedisReply/isNoScript`` replies, and should load and resend those commands.
    ///
    /// - Throws: ``RedisError/Kind/script`` if the script does not compile.
    public func load(_ script: RedisScript) throws(RedisError) {
        try markLoaded(script, loadReply: send(Self.scriptLoad(script)))
    }

    private static func scriptLoad(_ script: RedisScript) -> RedisCommand {
        var command = RedisCommand("SCRIPT")
        command.append("LOAD")
        command.append(script.source)
        return command
    }

    private func markLoaded(_ script: RedisScript, loadReply: RedisReply) throws(RedisError) {
        if case .error(let message) = loadReply {
            throw RedisError(kind: .script, message: "redis at \(host):\(port) rejected script \(script.sha1): \(message)")
        }
        guard loadReply.string == script.sha1 else {
            throw RedisError(
                kind: .script,
                message: "redis at \(host):\(port) loaded script as \(String(describing: loadReply)), expected SHA-1 \(script.sha1)"
            )
        }
        loadedScripts.insert(script.sha1)
    }
}
