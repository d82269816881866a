import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A throwaway Redis Cluster of `redis-server` child processes on 127.0.0.1, for tests and measurements: masters
/// with replicas, created with `redis-cli --cluster create`, with a short node timeout so that a killed master's
/// replica takes over within a few seconds.
///
/// Each node is a ``RedisServerProcess`` (its own port and temporary directory, removed when it is released).
/// Optional ACL credentials are required on every node: the default user may then only PING and INFO, and replicas
/// authenticate to their masters with the same user (`masteruser`/`masterauth`).
public final class RedisClusterProcess: @unchecked Sendable {
    /// Every node, masters first as created (roles change with failovers: see ``masters()``).
    public let nodes: [RedisServerProcess]
    /// The ACL user every node requires, if any.
    public let credentials: RedisCredentials?
    /// `cluster-node-timeout`: how long a node may be silent before it counts as failing.
    public let nodeTimeoutMs: Int

    /// The first node as a cluster seed, with the credentials, and every other node as further seeds.
    public var seed: RedisEndpoint {
        var seed = RedisEndpoint(host: nodes[0].host, port: nodes[0].port, credentials: credentials, cluster: true)
        seed.otherSeeds = nodes.dropFirst().map { RedisAddress(host: $0.host, port: $0.port) }
        return seed
    }

    /// Starts `masters * (1 + replicasPerMaster)` nodes, creates the cluster, and waits until every node reports
    /// `cluster_state:ok` with all 16384 slots served and every replica attached (up to 30 s).
    ///
    /// - Parameters:
    ///   - persistence: fsynced append-only files, so a killed node comes back with its data.
    ///   - requireFullCoverage: `cluster-require-full-coverage`; `false` (the default here) keeps the other masters
    ///     answering while a failed master's slots have no owner, which lets a test see one node's failure alone.
    ///   - credentials: an ACL user (with a user name) to require on every node.
    public static func start(
        masters: Int = 3, replicasPerMaster: Int = 1, nodeTimeoutMs: Int = 1000, persistence: Bool = false,
        requireFullCoverage: Bool = false, credentials: RedisCredentials? = nil
    ) throws -> RedisClusterProcess {
        var arguments = [
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-node-timeout", String(nodeTimeoutMs),
            "--cluster-replica-validity-factor", "0",
            "--cluster-require-full-coverage", requireFullCoverage ? "yes" : "no",
        ]
        if let credentials {
            guard let user = credentials.user else {
                throw RedisServerProcessError(message: "a test cluster's credentials need an ACL user name")
            }
            arguments += ["--user", user, "on", ">\(credentials.password)", "~*", "&*", "+@all"]
            // RedisServerProcess checks a start with PING and INFO server, unauthenticated.
            arguments += ["--user", "default", "on", "nopass", "-@all", "+ping", "+info"]
            arguments += ["--masteruser", user, "--masterauth", credentials.password]
        }
        var nodes: [RedisServerProcess] = []
        do {
            for _ in 0..<(masters * (1 + replicasPerMaster)) {
                nodes.append(try startNode(arguments: arguments, persistence: persistence))
            }
            let cluster = RedisClusterProcess(nodes: nodes, credentials: credentials, nodeTimeoutMs: nodeTimeoutMs)
            try cluster.create(replicasPerMaster: replicasPerMaster)
            try cluster.waitUntilHealthy(replicasPerMaster: replicasPerMaster, timeout: 30)
            return cluster
        } catch {
            for node in nodes { node.stop() }
            throw error
        }
    }

    private init(nodes: [RedisServerProcess], credentials: RedisCredentials?, nodeTimeoutMs: Int) {
        self.nodes = nodes
        self.credentials = credentials
        self.nodeTimeoutMs = nodeTimeoutMs
    }

    deinit { stop() }

    /// Stops every node; their directories go when the cluster is released.
    public func stop() {
        for node in nodes { node.stop() }
    }

    /// A new authenticated connection to one node.
    public func connection(to node: RedisServerProcess, commandTimeoutMs: Int = 5000) throws -> RedisConnection {
        try RedisConnection(
            endpoint: RedisEndpoint(host: node.host, port: node.port, credentials: credentials),
            connectTimeoutMs: 1000, commandTimeoutMs: commandTimeoutMs)
    }

    /// The running nodes that are masters now (by `ROLE`).
    public func masters() throws -> [RedisServerProcess] {
        var masters: [RedisServerProcess] = []
        for node in nodes where node.isRunning {
            if try role(of: node) == "master" { masters.append(node) }
        }
        return masters
    }

    /// The running master serving `slot`, as the first running node that answers `CLUSTER SLOTS` sees it.
    public func master(ofSlot slot: Int) throws -> RedisServerProcess {
        for node in nodes where node.isRunning {
            guard let reply = try? connection(to: node).send("CLUSTER", "SLOTS"), let ranges = reply.array else { continue }
            for range in ranges {
                guard let fields = range.array, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                      (Int(start)...Int(end)).contains(slot), let port = fields[2].array?[1].int
                else { continue }
                if let master = nodes.first(where: { $0.port == Int(port) }) { return master }
            }
        }
        throw RedisServerProcessError(message: "no running cluster node names the master of slot \(slot)")
    }

    /// The node ID (`CLUSTER MYID`) of a running node.
    public func nodeID(of node: RedisServerProcess) throws -> String {
        guard let id = try connection(to: node).send("CLUSTER", "MYID").string else {
            throw RedisServerProcessError(message: "CLUSTER MYID on port \(node.port) gave no ID")
        }
        return id
    }

    /// The running replicas attached to `master` (by the master's `ROLE`).
    public func replicas(of master: RedisServerProcess) throws -> [RedisServerProcess] {
        let reply = try connection(to: master).send("ROLE")
        guard let fields = reply.array, fields.count >= 3, let attached = fields[2].array else { return [] }
        let ports = attached.compactMap { $0.array?[1].string.flatMap(Int.init) }
        return nodes.filter { ports.contains($0.port) && $0.isRunning }
    }

    /// Kills `master` with SIGKILL, as a crash would, and waits until one of its replicas has taken over and every
    /// running node reports `cluster_state:ok` again. Returns the promoted replica.
    @discardableResult
    public func killMasterAndWaitForFailover(_ master: RedisServerProcess, timeout: TimeInterval = 30) throws
        -> RedisServerProcess
    {
        let candidates = try replicas(of: master)
        guard !candidates.isEmpty else {
            throw RedisServerProcessError(message: "master on port \(master.port) has no attached replica to fail over to")
        }
        master.kill()
        return try waitForPromotion(of: candidates, timeout: timeout)
    }

    /// Waits until one of `candidates` (the replicas of a master that was killed) is a master and every running
    /// node reports `cluster_state:ok` with every slot served by a live master. Returns the promoted one.
    public func waitForPromotion(of candidates: [RedisServerProcess], timeout: TimeInterval = 30) throws
        -> RedisServerProcess
    {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            // cluster_slots_ok counts slots whose master is not failing: all of them once every node knows the
            // promoted replica owns the killed master's slots.
            if let promoted = candidates.first(where: { (try? role(of: $0)) == "master" }),
               allRunningNodesReport("cluster_state:ok", "cluster_slots_ok:16384")
            {
                return promoted
            }
            usleep(50_000)
        }
        throw RedisServerProcessError(
            message: "none of the replicas on ports \(candidates.map(\.port)) was promoted within \(Int(timeout)) s")
    }

    /// Starts a killed or stopped node again with its data directory (its `nodes.conf`), and waits until it has
    /// rejoined: another node sees it without the `fail` flag in the role it reports itself (a master that was failed
    /// over comes back as a replica), `cluster_state:ok` on it and, as a replica, its link to its master up.
    public func restart(_ node: RedisServerProcess, timeout: TimeInterval = 30) throws {
        try node.restart(keepData: true)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if (try? hasRejoined(node)) == true { return }
            usleep(50_000)
        }
        throw RedisServerProcessError(message: "restarted cluster node on port \(node.port) did not rejoin within \(Int(timeout)) s")
    }

    private func hasRejoined(_ node: RedisServerProcess) throws -> Bool {
        let connection = try self.connection(to: node, commandTimeoutMs: 1000)
        guard let info = try connection.send("CLUSTER", "INFO").string, info.contains("cluster_state:ok"),
              let role = try role(of: node), let id = try connection.send("CLUSTER", "MYID").string,
              let other = nodes.first(where: { $0.port != node.port && $0.isRunning }),
              let view = try self.connection(to: other, commandTimeoutMs: 1000).send("CLUSTER", "NODES").string,
              let line = view.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix(id) })
        else { return false }
        let flags = line.split(separator: " ").dropFirst(2).first ?? ""
        guard !flags.contains("fail"), flags.contains(role == "master" ? "master" : "slave") else { return false }
        if role == "master" { return true }
        return (try connection.send("INFO", "replication").string)?.contains("master_link_status:up") ?? false
    }

    /// Waits until every running node reports `cluster_state:ok` with every slot served, and every master has
    /// `replicasPerMaster` attached replicas.
    public func waitUntilHealthy(replicasPerMaster: Int = 1, timeout: TimeInterval = 30) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if allRunningNodesReport("cluster_state:ok", "cluster_slots_ok:16384"),
               let masters = try? masters(),
               (try? masters.allSatisfy { try replicas(of: $0).count >= replicasPerMaster }) == true
            {
                return
            }
            usleep(50_000)
        }
        let states = nodes.map { node in
            "\(node.port): " + ((try? connection(to: node).send("CLUSTER", "INFO").string) ?? "no answer")
                .split(whereSeparator: \.isNewline).prefix(3).joined(separator: " ")
        }
        throw RedisServerProcessError(
            message: "redis cluster not healthy within \(Int(timeout)) s: \(states.joined(separator: "; "))")
    }

    // MARK: - Internals

    /// A node on a port whose cluster bus port (port + 10000) is free too: Redis needs both, so the port must be
    /// at most 55535, below the kernel's usual range for ephemeral ports.
    private static func startNode(arguments: [String], persistence: Bool) throws -> RedisServerProcess {
        var lastError: Error = RedisServerProcessError(message: "no free port pair for a cluster node")
        for _ in 0..<20 {
            let port = Int.random(in: 20_000..<30_000)
            guard portIsFree(port), portIsFree(port + 10_000) else { continue }
            do {
                return try RedisServerProcess.start(port: port, extraArguments: arguments, persistence: persistence)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Whether 127.0.0.1:`port` can be bound right now.
    private static func portIsFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { _ = close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// `redis-cli --cluster create` over every node, masters being the first ones.
    private func create(replicasPerMaster: Int) throws {
        let cli = URL(fileURLWithPath: nodes[0].executablePath).deletingLastPathComponent()
            .appendingPathComponent("redis-cli").path
        var arguments = ["--cluster", "create"] + nodes.map { "\($0.host):\($0.port)" }
        arguments += ["--cluster-replicas", String(replicasPerMaster), "--cluster-yes"]
        if let credentials {
            if let user = credentials.user { arguments += ["--user", user] }
            arguments += ["--pass", credentials.password, "--no-auth-warning"]
        }
        let (status, text) = try ToolProcess.run(cli, arguments)
        guard status == 0, text.contains("[OK] All 16384 slots covered") else {
            throw RedisServerProcessError(
                message: "redis-cli --cluster create exited with status \(status):\n\(text.suffix(3000))")
        }
    }

    /// `master` or `slave`, from `ROLE`.
    private func role(of node: RedisServerProcess) throws -> String? {
        try connection(to: node, commandTimeoutMs: 1000).send("ROLE").array?.first?.string
    }

    private func allRunningNodesReport(_ lines: String...) -> Bool {
        nodes.filter(\.isRunning).allSatisfy { node in
            guard let info = (try? connection(to: node, commandTimeoutMs: 1000).send("CLUSTER", "INFO"))?.string else {
                return false
            }
            return lines.allSatisfy { info.contains("\($0)\r\n") }
        }
    }
}
