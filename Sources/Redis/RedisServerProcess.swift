import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a throwaway `redis-server` could not be started or restarted.
public struct RedisServerProcessError: Error, CustomStringConvertible, Sendable {
    /// What failed and why, including the end of the server's log when it ran at all.
    public var message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { "redis-server process error: \(message)" }
}

/// A throwaway `redis-server` child process on 127.0.0.1, for tests and the demo.
///
/// Runs in its own temporary directory (removed on deinit) with RDB snapshots off. With `persistence: true` it
/// writes an append-only file fsynced on every write (`--appendonly yes --appendfsync always`), so data survives
/// ``kill()`` followed by ``restart(keepData:)``. The server is stopped in ``stop()`` or deinit.
///
/// With `tls` it listens for TLS only (`--port 0 --tls-port`); with `users` it loads an ACL file with those users and
/// the default user off, so every client must authenticate. ``endpoint`` is then how to reach it.
///
/// Methods are serialised by an internal lock, so the object may be shared between threads.
public final class RedisServerProcess: @unchecked Sendable {
    /// Always "127.0.0.1".
    public let host = "127.0.0.1"
    /// The port the server listens on; kept across restarts.
    public let port: Int
    /// The `redis-server` binary in use.
    public let executablePath: String
    /// Whether the server writes an fsynced append-only file.
    public let persistence: Bool
    /// TLS settings; nil listens on plain TCP.
    public let tls: RedisServerTLS?
    /// ACL users; empty leaves the default user open, as a stock server does.
    public let users: [RedisServerUser]

    /// How a client reaches this server: TLS trusting its CA (with the client certificate, if any), and the first
    /// user's credentials.
    public var endpoint: RedisEndpoint {
        RedisEndpoint(
            host: host, port: port,
            credentials: users.first.map { RedisCredentials(user: $0.name, password: $0.password) },
            tls: tls.map { RedisTLSOptions(caFile: $0.caFile, certFile: $0.clientCertFile, keyFile: $0.clientKeyFile) })
    }

    private let extraArguments: [String]
    /// Holds `data/` (the server's `--dir`) and `redis.log` (its stdout and stderr).
    private let baseDirectory: URL
    private let lock = NSLock()
    private var process: Process?

    /// The server's working directory (`--dir`), where the append-only file lives.
    public var dataDirectory: String { baseDirectory.appendingPathComponent("data").path }
    private var logPath: String { baseDirectory.appendingPathComponent("redis.log").path }

    /// Starts a server and waits until it answers PING (up to 10 s).
    ///
    /// - Parameters:
    ///   - port: the port to listen on; `nil` picks a free one (retrying if another process takes it first).
    ///   - extraArguments: more `redis-server` options, appended last so they override the defaults,
    ///     e.g. `["--enable-debug-command", "local"]`.
    ///   - persistence: write an fsynced append-only file so data survives kill and restart.
    ///   - executable: path of `redis-server`; `nil` searches `PATH`, then `/usr/bin`.
    ///   - tls: listen for TLS only, on `port`.
    ///   - users: ACL users, the default user turned off; the first must be allowed PING and INFO (the readiness
    ///     check logs in as it).
    /// - Throws: ``RedisServerProcessError`` if the binary is missing, or the server exits or does not answer
    ///   in time (with the end of its output).
    public static func start(
        port: Int? = nil,
        extraArguments: [String] = [],
        persistence: Bool = false,
        executable: String? = nil,
        tls: RedisServerTLS? = nil,
        users: [RedisServerUser] = []
    ) throws -> RedisServerProcess {
        let executablePath = try executable ?? findRedisServer()
        guard FileManager.default.isExecutableFile(atPath: executablePath) else {
            throw RedisServerProcessError(message: "redis-server not found or not executable at \(executablePath)")
        }
        let attempts = port == nil ? 3 : 1
        var lastError: Error?
        for _ in 0..<attempts {
            let server = try RedisServerProcess(
                port: port ?? freeLocalPort(),
                executablePath: executablePath,
                extraArguments: extraArguments,
                persistence: persistence,
                tls: tls,
                users: users
            )
            do {
                try server.withLock { try server.launch() }
                return server
            } catch let error as PortInUse {
                lastError = error.underlying
            }
        }
        throw lastError ?? RedisServerProcessError(message: "could not start redis-server")
    }

    private init(
        port: Int, executablePath: String, extraArguments: [String], persistence: Bool, tls: RedisServerTLS?,
        users: [RedisServerUser]
    ) throws {
        self.port = port
        self.executablePath = executablePath
        self.extraArguments = extraArguments
        self.persistence = persistence
        self.tls = tls
        self.users = users
        self.baseDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("vigil-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: baseDirectory.appendingPathComponent("data"), withIntermediateDirectories: true
        )
        if !users.isEmpty {
            // A file rather than --requirepass or `ACL SETUSER` arguments, so no password shows in `ps`.
            let lines = ["user default off"] + users.map { "user \($0.name) on >\($0.password) \($0.rules)" }
            try (lines.joined(separator: "\n") + "\n").write(toFile: aclPath, atomically: true, encoding: .utf8)
        }
    }

    private var aclPath: String { baseDirectory.appendingPathComponent("users.acl").path }

    deinit {
        stopProcess()
        try? FileManager.default.removeItem(at: baseDirectory)
    }

    /// `true` while the child process is alive.
    public var isRunning: Bool {
        withLock { process?.isRunning ?? false }
    }

    /// Stops the server: SIGTERM, then SIGKILL if it has not exited within 5 s. Does nothing if it is not running.
    public func stop() {
        withLock { stopProcess() }
    }

    /// Kills the server with SIGKILL and waits for it to be gone, as a crash would.
    public func kill() {
        withLock {
            guard let process else { return }
            if process.isRunning {
                sendSignal(SIGKILL, to: process.processIdentifier)
            }
            process.waitUntilExit()
            self.process = nil
        }
    }

    /// Sends `signal` to the server (`SIGSTOP` freezes it, as a stalled or partitioned node; `SIGCONT` lets it go on).
    public func send(signal: Int32) {
        withLock {
            guard let process, process.isRunning else { return }
            sendSignal(signal, to: process.processIdentifier)
        }
    }

    /// Stops the server if it is running and starts it again on the same port and directory.
    ///
    /// - Parameter keepData: `false` empties the data directory first, so the server comes back empty.
    ///   `true` keeps it; with `persistence: true` the data written before a stop or kill is then loaded again.
    public func restart(keepData: Bool) throws {
        try withLock {
            stopProcess()
            if !keepData {
                let data = URL(fileURLWithPath: dataDirectory)
                try? FileManager.default.removeItem(at: data)
                try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            }
            do {
                try launch()
            } catch let error as PortInUse {
                throw error.underlying
            }
        }
    }

    // MARK: - Internals

    /// Thrown by `launch` when the chosen port was taken, so `start` can try another.
    private struct PortInUse: Error {
        var underlying: RedisServerProcessError
    }

    private func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private var arguments: [String] {
        var arguments = tls == nil ? ["--port", String(port)] : ["--port", "0", "--tls-port", String(port)]
        arguments += [
            "--bind", host,
            "--dir", dataDirectory,
            "--daemonize", "no",
            "--logfile", "",
            "--save", "",
        ]
        arguments += persistence
            ? ["--appendonly", "yes", "--appendfsync", "always"]
            : ["--appendonly", "no"]
        if let tls {
            arguments += [
                "--tls-cert-file", tls.certFile, "--tls-key-file", tls.keyFile, "--tls-ca-cert-file", tls.caFile,
                "--tls-auth-clients", tls.authClients ? "yes" : "no",
            ]
        }
        if !users.isEmpty { arguments += ["--aclfile", aclPath] }
        return arguments + extraArguments
    }

    /// Starts the child and waits until it answers PING. Caller holds the lock.
    private func launch() throws {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw RedisServerProcessError(message: "cannot create log file \(logPath)")
        }
        defer { try? log.close() }

        let child = Process()
        child.executableURL = URL(fileURLWithPath: executablePath)
        child.arguments = arguments
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = log
        child.standardError = log
        do {
            try child.run()
        } catch {
            throw RedisServerProcessError(message: "cannot run \(executablePath): \(error)")
        }
        process = child

        let deadline = Date().addingTimeInterval(10)
        while true {
            if !child.isRunning {
                child.waitUntilExit()
                process = nil
                let output = logTail()
                let failure = RedisServerProcessError(
                    message: "redis-server on \(host):\(port) exited with status \(child.terminationStatus) before answering PING. Output:\n\(output)"
                )
                throw output.contains("Address already in use") ? PortInUse(underlying: failure) : failure
            }
            if answersPing(pid: child.processIdentifier) { return }
            if Date() > deadline {
                stopProcess()
                throw RedisServerProcessError(
                    message: "redis-server on \(host):\(port) did not answer PING within 10 s. Output:\n\(logTail())"
                )
            }
            usleep(20_000)
        }
    }

    /// True once PING answers PONG and the server answering is our child, not another one on the same port.
    private func answersPing(pid: Int32) -> Bool {
        guard let connection = try? RedisConnection(endpoint: endpoint, connectTimeoutMs: 500, commandTimeoutMs: 1000),
              (try? connection.send("PING")) == .status("PONG"),
              let info = (try? connection.send("INFO", "server"))?.string
        else { return false }
        return info.contains("process_id:\(pid)\r\n")
    }

    /// SIGTERM, wait up to 5 s, then SIGKILL. Caller holds the lock.
    private func stopProcess() {
        guard let child = process else { return }
        process = nil
        if child.isRunning {
            child.terminate()
            let deadline = Date().addingTimeInterval(5)
            while child.isRunning && Date() < deadline { usleep(10_000) }
            if child.isRunning { sendSignal(SIGKILL, to: child.processIdentifier) }
        }
        child.waitUntilExit()
    }

    private func logTail(maxBytes: Int = 4000) -> String {
        guard let data = FileManager.default.contents(atPath: logPath), !data.isEmpty else {
            return "(no output)"
        }
        return String(decoding: data.suffix(maxBytes), as: UTF8.self)
    }

    private static func findRedisServer() throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = path.split(separator: ":").map { "\($0)/redis-server" } + ["/usr/bin/redis-server"]
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return found
        }
        throw RedisServerProcessError(
            message: "redis-server not found in PATH (\(path)) or /usr/bin; install the redis-server package"
        )
    }

    /// A port that was free a moment ago: bind 127.0.0.1:0, read the port the kernel chose, close.
    private static func freeLocalPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else {
            throw RedisServerProcessError(message: "cannot create a socket to find a free port: \(String(cString: strerror(errno)))")
        }
        defer { _ = close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            throw RedisServerProcessError(message: "cannot bind 127.0.0.1:0 to find a free port: \(String(cString: strerror(errno)))")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// `kill(2)`, at file scope because ``RedisServerProcess/kill()`` shadows it inside the class.
private func sendSignal(_ signal: Int32, to pid: pid_t) {
    _ = kill(pid, signal)
}

/// TLS for a throwaway server (``RedisServerProcess/start(port:extraArguments:persistence:executable:tls:users:)``),
/// e.g. from ``RedisTestCertificates``.
public struct RedisServerTLS: Sendable {
    /// The server's certificate and key (PEM).
    public var certFile: String
    public var keyFile: String
    /// The CA clients' certificates must chain to, and the one clients of ``RedisServerProcess/endpoint`` trust.
    public var caFile: String
    /// `--tls-auth-clients yes`: clients must present a certificate from `caFile`.
    public var authClients: Bool
    /// The certificate ``RedisServerProcess/endpoint`` presents (needed with `authClients`).
    public var clientCertFile: String?
    public var clientKeyFile: String?

    public init(
        certFile: String, keyFile: String, caFile: String, authClients: Bool = false, clientCertFile: String? = nil,
        clientKeyFile: String? = nil
    ) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.authClients = authClients
        self.clientCertFile = clientCertFile
        self.clientKeyFile = clientKeyFile
    }
}

/// An ACL user of a throwaway server: `user <name> on ><password> <rules>`.
public struct RedisServerUser: Sendable {
    public var name: String
    public var password: String
    /// ACL rules after the password; all keys, channels and commands by default.
    public var rules: String

    public init(name: String, password: String, rules: String = "~* &* +@all") {
        self.name = name
        self.password = password
        self.rules = rules
    }
}
