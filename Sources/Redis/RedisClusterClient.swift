/// A Redis Cluster client: sends every command to the master serving its key's slot, over one `RedisConnection` per
/// master, opened on first use with the seed's credentials and TLS settings.
///
/// The slot map comes from `CLUSTER SLOTS`, asked of the seed, the other seeds or any node learned since. A `MOVED`
/// reply updates the map (and has it read again on the next call), `ASK` sends `ASKING` and the command to the
/// importing node, `TRYAGAIN` is retried shortly; the command's final reply takes its place. A pipeline costs one
/// round trip per master involved: every master's share is written before any reply is read.
///
/// A node that fails (refused, I/O error, closed, timeout) loses its connection and marks the map stale: the call
/// that saw it throws the node's error, with its kind, or reports it per command (``pipelineEach(_:)``); the next
/// call reads the map again from any node that answers, which is how the client finds the replica promoted after a
/// failover. The client therefore never becomes broken; keep it and call again.
///
/// Multi-key commands and scripts must have all their keys in one slot (use a hash tag, see ``RedisSlot``): others
/// are refused before anything is sent. Not thread-safe, like a connection: one thread at a time.
public final class RedisClusterClient: RedisClient, @unchecked Sendable {
    /// The seed the client was opened for; its credentials and TLS settings apply to every node.
    public let endpoint: RedisEndpoint
    public let connectTimeoutMs: Int
    public let commandTimeoutMs: Int
    /// How many times one command follows MOVED, ASK, TRYAGAIN or NOSCRIPT before its error reply is returned.
    public static let maxRedirections = 5

    /// Always false: a node's failure is reported by the call that meets it, and the next call finds the cluster again.
    public var isBroken: Bool { false }

    var map = RedisClusterSlotMap()
    /// Read the map again before the next command (after a MOVED or a node failure).
    var mapIsStale = true
    var connections: [RedisAddress: RedisConnection] = [:]
    /// Seeds first, then every node a map named: where to ask for the map.
    var knownNodes: [RedisAddress]
    /// Scripts given to `load` or `eval`, by SHA-1, to load where a node answers NOSCRIPT.
    var scripts: [String: RedisScript] = [:]
    /// The last SCRIPT LOAD refused while resending, for `eval`'s error.
    var scriptLoadFailure: String?
    var isClosed = false

    /// Reads the slot map from the seed or, failing that, the other seeds.
    ///
    /// - Throws: the last node's error when none answers with a slot map (``RedisError/Kind/connect`` when none
    ///   could be reached, ``RedisError/Kind/auth`` when credentials were refused, ``RedisError/Kind/server`` when a
    ///   node is not in cluster mode).
    public init(seed: RedisEndpoint, connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000) throws(RedisError) {
        self.endpoint = seed
        self.connectTimeoutMs = connectTimeoutMs
        self.commandTimeoutMs = commandTimeoutMs
        var seeds = [RedisAddress(host: seed.host, port: seed.port)]
        for other in seed.otherSeeds where !seeds.contains(other) { seeds.append(other) }
        self.knownNodes = seeds
        try refreshSlotMap()
    }

    /// The masters of the current slot map.
    public var masters: [RedisAddress] { map.masters }

    /// The master the client would send a command on `slot` to.
    public func master(ofSlot slot: Int) -> RedisAddress? { map.owner(ofSlot: slot) }

    /// Sends one command to the master of its key's slot and waits for its reply (after redirections).
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try finishPipeline(startPipeline([command]))[0]
    }

    /// Sends the commands, each to the master of its slot, and returns their replies in order. One round trip per
    /// master; redirected commands cost one more each time. Throws the first failed node's error.
    public func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try finishPipeline(startPipeline(commands))
    }

    /// `pipeline`, with the replies of the nodes that answered and `.failure` for the commands of a node that failed
    /// (which may or may not have run). Throws only if nothing could be sent (no node gives a slot map, or a command
    /// is refused).
    public func pipelineEach(_ commands: [RedisCommand]) throws(RedisError) -> [Result<RedisReply, RedisError>] {
        if commands.isEmpty { return [] }
        return try finishEach(startPipeline(commands))
    }

    /// Writes every master's share of `commands` and returns without reading replies.
    public func startPipeline(_ commands: [RedisCommand]) throws(RedisError) -> PendingPipeline {
        try prepare()
        var state = RedisClusterPipeline(commands: commands)
        try append(0..<commands.count, to: &state)
        // The commands travel in `state`; their names (only for one connection's error messages) are not needed.
        return PendingPipeline(names: [], cluster: state)
    }

    /// Writes more commands, possibly to other masters, on a pipeline whose replies are unread.
    public func extendPipeline(_ pending: PendingPipeline, with commands: [RedisCommand]) throws(RedisError)
        -> PendingPipeline
    {
        guard var state = pending.cluster else { throw Self.notOurs }
        if isClosed { throw closedError }
        let start = state.commands.count
        state.commands += commands
        try append(start..<state.commands.count, to: &state)
        return PendingPipeline(names: [], cluster: state)
    }

    /// Reads the replies of a pipeline, follows redirections, and returns the replies in the caller's order.
    /// Throws the first failed node's error (see ``pipelineEach(_:)`` for per-command results).
    public func finishPipeline(_ pending: PendingPipeline) throws(RedisError) -> [RedisReply] {
        var replies: [RedisReply] = []
        replies.reserveCapacity(pending.cluster?.commands.count ?? 0)
        for result in try finishEach(pending) { replies.append(try result.get()) }
        return replies
    }

    /// Runs a prebuilt `EVALSHA` of `script` on the master of its keys' slot (any master for a keyless one), loading
    /// the script there when that node has not got it: scripts are not replicated, so a replica promoted by a
    /// failover answers NOSCRIPT until loaded.
    ///
    /// - Throws: ``RedisError/Kind/script`` if the script does not compile, or the node's error.
    public func eval(_ script: RedisScript, command: RedisCommand) throws(RedisError) -> RedisReply {
        try prepare()
        scripts[script.sha1] = script
        scriptLoadFailure = nil
        let target = try route(command)
        let connection = try self.connection(to: target)
        var first: RedisReply = .null
        do {
            first = try connection.eval(script, command: command)
        } catch {
            if error.kind != .script { drop(target) }
            throw error
        }
        var results: [Result<RedisReply, RedisError>] = [.success(first)]
        followRedirections(&results, commands: [command], sentTo: [target])
        let reply = try results[0].get()
        if reply.isNoScript {
            throw RedisError(
                kind: .script,
                message: "redis cluster could not load script \(script.sha1): \(scriptLoadFailure ?? reply.errorMessage ?? "")")
        }
        return reply
    }

    /// Loads `script` on every master, for callers that pipeline `EVALSHA` themselves. A node that later answers
    /// NOSCRIPT for it (a promoted replica) gets it loaded and the command resent, within the pipeline.
    ///
    /// - Throws: ``RedisError/Kind/script`` if the script does not compile, or the first failed master's error.
    public func load(_ script: RedisScript) throws(RedisError) {
        try prepare()
        scripts[script.sha1] = script
        for master in map.masters {
            let connection = try self.connection(to: master)
            do {
                try connection.load(script)
            } catch {
                if error.kind != .script { drop(master) }
                throw error
            }
        }
    }

    /// Sends `command` to every master (FLUSHALL, SCRIPT FLUSH, CONFIG SET, ...) and returns each one's reply.
    public func sendToEachMaster(_ command: RedisCommand) throws(RedisError) -> [(master: RedisAddress, reply: RedisReply)] {
        try prepare()
        var replies: [(master: RedisAddress, reply: RedisReply)] = []
        for master in map.masters {
            let connection = try self.connection(to: master)
            do {
                replies.append((master, try connection.send(command)))
            } catch {
                drop(master)
                throw error
            }
        }
        return replies
    }

    /// Reads the slot map again now, from the first node that answers (connected masters first, then the other
    /// masters of the current map, the seeds and every other node learned).
    public func refreshSlotMap() throws(RedisError) {
        if isClosed { throw closedError }
        // Nodes already connected first: a failed node may take the whole connect timeout to refuse.
        var candidates = map.masters.filter { connections[$0].map { !$0.isBroken } ?? false }
        for node in map.masters + knownNodes where !candidates.contains(node) { candidates.append(node) }
        var lastError = RedisError(kind: .connect, message: "no redis cluster node to ask for the slot map")
        for address in candidates {
            var reply: RedisReply = .null
            do {
                reply = try connection(to: address).send(["CLUSTER", "SLOTS"])
            } catch {
                drop(address)
                lastError = error
                continue
            }
            guard let found = RedisClusterSlotMap(slotsReply: reply, answeringHost: address.host),
                  found.coveredSlots > 0
            else {
                let refused = reply.errorCode == "NOAUTH" || reply.errorCode == "NOPERM"
                lastError = RedisError(
                    kind: refused ? .auth : .server,
                    message: "redis at \(address) gave no cluster slot map (CLUSTER SLOTS answered \(reply))")
                continue
            }
            map = found
            mapIsStale = false
            for node in found.masters + found.replicas where !knownNodes.contains(node) { knownNodes.append(node) }
            return
        }
        throw lastError
    }

    /// Closes every node's connection. Later calls throw.
    public func close() {
        for connection in connections.values { connection.close() }
        connections.removeAll()
        isClosed = true
    }

    // MARK: - Internals

    /// Throws if closed; reads the map again if it is stale.
    func prepare() throws(RedisError) {
        if isClosed { throw closedError }
        if mapIsStale { try refreshSlotMap() }
    }

    /// The master for `command`: its slot's owner, or the fixed default master for keyless commands (and for slots
    /// no master serves, which then answers with a redirection or CLUSTERDOWN).
    func route(_ command: RedisCommand) throws(RedisError) -> RedisAddress {
        if let slot = try command.clusterSlot(), let owner = map.owner(ofSlot: slot) { return owner }
        guard let fallback = map.owner(ofSlot: 0) ?? map.masters.first else {
            throw RedisError(kind: .connect, message: "redis cluster slot map names no master")
        }
        return fallback
    }

    /// An open connection to `address`, opening it if needed.
    func connection(to address: RedisAddress) throws(RedisError) -> RedisConnection {
        if let connection = connections[address], !connection.isBroken { return connection }
        connections[address] = nil
        let connection = try RedisConnection(
            endpoint: endpoint.node(host: address.host, port: address.port),
            connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        connections[address] = connection
        return connection
    }

    /// Forgets a failed node's connection and has the map read again before the next command.
    func drop(_ address: RedisAddress) {
        connections.removeValue(forKey: address)?.close()
        mapIsStale = true
    }

    /// Routes the commands at `positions` and writes each master's share, extending that master's sub-pipeline if it
    /// has one. Every command is routed (and may be refused) before any is written.
    private func append(_ positions: Range<Int>, to state: inout RedisClusterPipeline) throws(RedisError) {
        var targets: [RedisAddress] = []
        targets.reserveCapacity(positions.count)
        for position in positions { targets.append(try route(state.commands[position])) }
        for (address, group) in RedisClusterPipeline.group(positions, by: targets) {
            let commands = group.map { state.commands[$0] }
            if let index = state.parts.firstIndex(where: { $0.address == address }) {
                state.parts[index].positions += group
                guard let sent = state.parts[index].pending else { continue }
                do {
                    state.parts[index].pending = try connections[address].unwrap(address).extendPipeline(sent, with: commands)
                } catch {
                    drop(address)
                    state.parts[index].pending = nil
                    state.parts[index].failure = error
                }
            } else {
                var part = RedisClusterPipeline.Part(address: address, positions: group)
                do {
                    part.pending = try connection(to: address).startPipeline(commands)
                } catch {
                    drop(address)
                    part.failure = error
                }
                state.parts.append(part)
            }
        }
    }

    /// Reads every node's replies into the caller's order, then follows redirections.
    func finishEach(_ pending: PendingPipeline) throws(RedisError) -> [Result<RedisReply, RedisError>] {
        guard let state = pending.cluster else { throw Self.notOurs }
        if isClosed { throw closedError }
        var results = [Result<RedisReply, RedisError>](
            repeating: .failure(RedisError(kind: .io, message: "no reply read")), count: state.commands.count)
        var sentTo = [RedisAddress](repeating: RedisAddress(host: "", port: 0), count: state.commands.count)
        for part in state.parts {
            for position in part.positions { sentTo[position] = part.address }
            var replies: [RedisReply] = []
            var failure = part.failure
            if let sent = part.pending, failure == nil {
                do {
                    replies = try connections[part.address].unwrap(part.address).finishPipeline(sent)
                } catch {
                    drop(part.address)
                    failure = error
                }
            }
            for (offset, position) in part.positions.enumerated() {
                if let failure {
                    results[position] = .failure(failure)
                } else {
                    results[position] = .success(replies[offset])
                }
            }
        }
        followRedirections(&results, commands: state.commands, sentTo: sentTo)
        return results
    }

    var closedError: RedisError { RedisError(kind: .io, message: "redis cluster client for \(endpoint.address) is closed") }

    static var notOurs: RedisError {
        RedisError(kind: .protocolError, message: "this pipeline was not started by a redis cluster client")
    }
}

extension Optional where Wrapped == RedisConnection {
    /// The connection a pipeline was started on; it is only dropped together with the pipeline's part.
    func unwrap(_ address: RedisAddress) throws(RedisError) -> RedisConnection {
        guard let self else {
            throw RedisError(kind: .io, message: "redis connection to \(address) was closed during a pipeline")
        }
        return self
    }
}
