/// The analysts' login sessions: an unguessable id in an HttpOnly, SameSite=Strict cookie, and per session a
/// CSRF token the page sends back in a header with every POST. Pure (ids come from the caller), bounded.
public struct SessionBook: Sendable {
    public struct Session: Sendable, Equatable {
        public var analyst: String
        public var csrfToken: String
        public var createdMs: Int64
        public var lastSeenMs: Int64
    }

    public struct Limits: Sendable, Equatable {
        /// A session unused this long ends.
        public var idleMs: Int64
        /// Any session ends this long after login.
        public var lifetimeMs: Int64
        /// Most sessions at once; a new login beyond it ends the least recently used one.
        public var sessions: Int

        public init(idleMs: Int64 = 8 * 3_600_000, lifetimeMs: Int64 = 24 * 3_600_000, sessions: Int = 1000) {
            self.idleMs = idleMs
            self.lifetimeMs = lifetimeMs
            self.sessions = max(1, sessions)
        }
    }

    public let limits: Limits
    private var sessions: [String: Session] = [:]

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var count: Int { sessions.count }

    /// Starts a session under `id` (a fresh random token, `SessionBook.newToken()`).
    public mutating func open(id: String, analyst: String, csrfToken: String, nowMs: Int64) {
        expire(nowMs: nowMs)
        if sessions.count >= limits.sessions, let oldest = sessions.min(by: { $0.value.lastSeenMs < $1.value.lastSeenMs }) {
            sessions[oldest.key] = nil
        }
        sessions[id] = Session(analyst: analyst, csrfToken: csrfToken, createdMs: nowMs, lastSeenMs: nowMs)
    }

    /// The live session of a cookie's id, marked as used now; nil for an unknown or expired one.
    public mutating func check(id: String?, nowMs: Int64) -> Session? {
        guard let id, var session = sessions[id] else { return nil }
        guard nowMs - session.lastSeenMs < limits.idleMs, nowMs - session.createdMs < limits.lifetimeMs else {
            sessions[id] = nil
            return nil
        }
        session.lastSeenMs = nowMs
        sessions[id] = session
        return session
    }

    /// Whether a POST's CSRF header matches its session (constant time).
    public static func csrfMatches(_ session: Session, header: String?) -> Bool {
        guard let header else { return false }
        return AnalystCredentials.constantTimeEqual(Array(header.utf8), Array(session.csrfToken.utf8))
    }

    public mutating func close(id: String?) {
        if let id { sessions[id] = nil }
    }

    mutating func expire(nowMs: Int64) {
        sessions = sessions.filter { nowMs - $0.value.lastSeenMs < limits.idleMs && nowMs - $0.value.createdMs < limits.lifetimeMs }
    }

    /// 32 random bytes as 64 hex digits, from the system's secure generator.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }
}
