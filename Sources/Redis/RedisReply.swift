/// One reply from Redis, as a value.
///
/// A server-side error (`-ERR ...`) is a reply, not a thrown error: in a pipeline each command succeeds or
/// fails on its own, so errors travel with the other replies. Use ``checked()`` where an error reply should throw.
public enum RedisReply: Equatable, Sendable {
    /// A simple string such as `+OK` or `+PONG`.
    case status(String)
    /// An error reply such as `-ERR wrong number of arguments` or `-NOSCRIPT ...`, without the leading `-`.
    case error(String)
    /// An integer reply (`:42`).
    case integer(Int64)
    /// A bulk string; binary-safe.
    case bulk([UInt8])
    /// A nil bulk string or nil array (a missing key, a timed-out blocking pop).
    case null
    /// An array reply, possibly nested.
    case array([RedisReply])
}

extension RedisReply {
    /// The bytes of a bulk or status reply; `nil` for every other case.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    /// A bulk or status reply decoded as UTF-8 (invalid sequences are repaired); `nil` for every other case.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        default: nil
        }
    }

    /// An integer reply, or a bulk reply holding decimal text (as `GET` returns for a counter); otherwise `nil`.
    public var int: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk(let bytes): Int64(String(decoding: bytes, as: UTF8.self))
        default: nil
        }
    }

    /// The elements of an array reply; `nil` for every other case (including a nil array, which is ``null``).
    public var array: [RedisReply]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// `true` for ``null``.
    public var isNull: Bool { self == .null }

    /// The message of an error reply; `nil` for every other case.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    /// The first word of an error reply, which Redis uses as an error code: `"ERR"`, `"WRONGTYPE"`,
    /// `"NOSCRIPT"`, `"BUSY"`, `"OOM"`, ... `nil` when this is not an error reply.
    public var errorCode: Substring? {
        guard case .error(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first
    }

    /// `true` when EVALSHA failed because the server does not have the script (after a restart or `SCRIPT FLUSH`).
    /// The command did not run, so it is safe to load the script and send it again.
    public var isNoScript: Bool { errorCode == "NOSCRIPT" }

    /// This reply, or a thrown ``RedisError`` of kind ``RedisError/Kind/server`` if it is an error reply.
    public func checked() throws(RedisError) -> RedisReply {
        if case .error(let message) = self {
            throw RedisError(kind: .server, message: message)
        }
        return self
    }
}
