/// Where a Redis deployment is and how to reach it: the address, the credentials, TLS, and whether it is a Redis
/// Cluster (then the address is one seed node; the others are learned from it).
///
/// Everything that opens a Redis connection (the state store, the model and merchant-risk channels, the probes, the
/// start checks) takes one of these, so authentication, TLS and cluster mode apply to every connection alike.
/// Its description names the address only: credentials never reach a log line through it.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// ACL user and password sent with `AUTH` on every (re)connect; nil sends no `AUTH`.
    public var credentials: RedisCredentials?
    /// TLS to the server; nil is plain TCP.
    public var tls: RedisTLSOptions?
    /// A Redis Cluster: commands are routed by key slot (`RedisClusterClient`).
    public var cluster: Bool
    /// Further cluster nodes to ask for the slot map when `host:port` does not answer (`--redis h1:p1,h2:p2,...`).
    public var otherSeeds: [RedisAddress] = []

    public init(
        host: String, port: Int, credentials: RedisCredentials? = nil, tls: RedisTLSOptions? = nil,
        cluster: Bool = false
    ) {
        self.host = host
        self.port = port
        self.credentials = credentials
        self.tls = tls
        self.cluster = cluster
    }

    /// `host:port`, and nothing of the credentials.
    public var address: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String {
        var text = address
        if tls != nil { text += " (tls)" }
        if cluster { text += " (cluster)" }
        return text
    }

    /// The same deployment at another node (cluster nodes share credentials and TLS settings).
    public func node(host: String, port: Int) -> RedisEndpoint {
        var copy = self
        copy.host = host
        copy.port = port
        return copy
    }

    /// Opens a client for this endpoint: one connection, or a cluster client routing by slot.
    public func open(connectTimeoutMs: Int = 2000, commandTimeoutMs: Int = 5000) throws(RedisError) -> any RedisClient {
        if cluster {
            return try RedisClusterClient(seed: self, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
        }
        return try RedisConnection(endpoint: self, connectTimeoutMs: connectTimeoutMs, commandTimeoutMs: commandTimeoutMs)
    }
}

/// One node's address.
public struct RedisAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An ACL user and password (`AUTH user password`, Redis 6+; user nil sends the legacy `AUTH password`). The password
/// is never printed: `description` and `debugDescription` redact it.
public struct RedisCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var user: String?
    public var password: String

    public init(user: String?, password: String) {
        self.user = user
        self.password = password
    }

    public var description: String { "user \(user ?? "default") (password redacted)" }
    public var debugDescription: String { description }
}

/// TLS to Redis. hiredis 0.14 has no TLS; `RedisConnection` runs OpenSSL itself (`TLSTransport`).
public struct RedisTLSOptions: Sendable, Equatable {
    /// CA certificates (PEM) the server's certificate must chain to; nil uses the system's default store.
    public var caFile: String?
    /// Client certificate and key (PEM), for servers with `tls-auth-clients yes`.
    public var certFile: String?
    public var keyFile: String?
    /// The name the server's certificate must carry; nil checks the host the endpoint names.
    public var serverName: String?

    public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}

/// `HOST:PORT` (or `[IPv6]:PORT`) as the command line writes it.
public enum RedisAddressParsing {
    public static func parse(_ text: String) -> RedisAddress? {
        let trimmed = Substring(text.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
        guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(trimmed[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return RedisAddress(host: host, port: port)
    }
}
