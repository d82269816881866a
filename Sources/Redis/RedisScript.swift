/// A Lua script identified by the SHA-1 of its source, as Redis identifies it for EVALSHA.
///
/// Make one per script at start-up and reuse it; the digest is computed once, locally, so no round trip
/// is needed to know it.
public struct RedisScript: Sendable, Hashable {
    /// The Lua source, as sent with SCRIPT LOAD.
    public let source: String
    /// Lowercase hex SHA-1 of the UTF-8 source; equal to what SCRIPT LOAD returns.
    public let sha1: String

    /// A script from its Lua source.
    public init(_ source: String) {
        self.source = source
        self.sha1 = SHA1.hexDigest(Array(source.utf8))
    }
}
