/// A failure talking to Redis: what failed and why.
///
/// Connection-level kinds (``Kind/connect``, ``Kind/io``, ``Kind/eof``, ``Kind/timeout``,
/// ``Kind/protocolError``) leave the connection broken; reconnect before sending more.
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The category of failure, for deciding whether to retry, reconnect or give up.
    public enum Kind: Sendable, Equatable {
        /// Could not open the connection (refused, unreachable, connect timeout, name resolution).
        case connect
        /// A read or write failed, or the connection was already broken or closed.
        case io
        /// The server closed the connection.
        case eof
        /// No reply arrived within the command timeout. The reply may still arrive later, so the
        /// connection is broken: a later read could return it for the wrong command.
        case timeout
        /// The bytes from the server were not valid RESP, or a command could not be encoded.
        case protocolError
        /// The server answered with an error reply where the caller asked for errors to throw
        /// (``RedisReply/checked()``).
        case server
        /// The server refused the credentials (`AUTH`: wrong password, unknown or disabled user), or asks for some
        /// (`NOAUTH`).
        case auth
        /// TLS settings that cannot work: the server's certificate was refused (unknown CA, wrong name, expired), or
        /// the CA, certificate or key files cannot be used. Waiting does not help.
        case tls
        /// A Lua script could not be loaded (a compile error) or the server kept forgetting it.
        case script
    }

    /// The category of failure.
    public var kind: Kind
    /// What failed and why; names host:port for connection errors.
    public var message: String

    /// Creates an error; public so that test doubles can produce the same errors as a real connection.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "Redis \(kind) error: \(message)" }
}
