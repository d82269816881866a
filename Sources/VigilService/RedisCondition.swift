import Redis

/// What Redis's last answer, or its silence, says about whether Vigil can decide transactions: the cause `/readyz`,
/// `vigil_paused` and `vigil_not_ready` name. Redis answers some refusals with an error reply whose first word is a
/// code (`-OOM command not allowed ...`, `-NOAUTH Authentication required.`); those are told apart here, once.
public enum RedisCondition: Equatable, Sendable {
    case answering
    /// Connection refused, reset or closed, name resolution failed.
    case unreachable(String)
    /// Connected, but no answer within the command timeout (a hung or overloaded Redis).
    case notAnswering(String)
    /// `OOM`: used memory is over `maxmemory` and the policy is `noeviction`: every write is refused.
    case outOfMemory(String)
    /// `NOAUTH` or `WRONGPASS`: Redis needs a password (or another one).
    case authenticationFailed(String)
    /// `LOADING`: Redis is loading its data set after a restart.
    case loading(String)
    /// `READONLY`: a replica (a failover pointed the address at one).
    case readOnly(String)
    /// `MISCONF`: Redis refuses writes because it cannot persist (`stop-writes-on-bgsave-error`).
    case cannotPersist(String)
    /// `BUSY`: a script runs past `busy-reply-threshold`.
    case busy(String)
    /// `CLUSTERDOWN` (or `TRYAGAIN` past its retries): a Redis Cluster that cannot serve a slot now, typically
    /// while a replica is being promoted.
    case clusterDown(String)
    /// Another error reply to a command every Redis accepts.
    case refused(String)

    /// The cause in an operator's words, as `/readyz` and the logs say it.
    public var cause: String {
        switch self {
        case .answering: "redis answering"
        case .unreachable: "redis unreachable"
        case .notAnswering: "redis not answering"
        case .outOfMemory: "redis out of memory"
        case .authenticationFailed: "redis authentication failed"
        case .loading: "redis loading its data"
        case .readOnly: "redis is a read-only replica"
        case .cannotPersist: "redis refuses writes: it cannot persist (MISCONF)"
        case .busy: "redis busy running a script"
        case .clusterDown: "redis cluster down (failover in progress?)"
        case .refused: "redis refuses commands"
        }
    }

    /// The cause as a bounded metric label (`vigil_not_ready{cause=...}`).
    public var label: String {
        switch self {
        case .answering: "redis_answering"
        case .unreachable: "redis_unreachable"
        case .notAnswering: "redis_not_answering"
        case .outOfMemory: "redis_out_of_memory"
        case .authenticationFailed: "redis_authentication_failed"
        case .loading: "redis_loading"
        case .readOnly: "redis_read_only"
        case .cannotPersist: "redis_cannot_persist"
        case .busy: "redis_busy"
        case .clusterDown: "redis_cluster_down"
        case .refused: "redis_refused"
        }
    }

    /// Every label, for metrics that list each cause with 0 or 1.
    public static let labels = [
        "redis_unreachable", "redis_not_answering", "redis_out_of_memory", "redis_authentication_failed",
        "redis_loading", "redis_read_only", "redis_cannot_persist", "redis_busy", "redis_cluster_down", "redis_refused",
    ]

    /// What Redis said, for the log and `/readyz`.
    public var detail: String {
        switch self {
        case .answering: ""
        case .unreachable(let s), .notAnswering(let s), .outOfMemory(let s), .authenticationFailed(let s),
            .loading(let s), .readOnly(let s), .cannotPersist(let s), .busy(let s), .clusterDown(let s), .refused(let s):
            s
        }
    }

    /// The condition an error reply's text shows (its first word is Redis's error code).
    public static func of(errorReply text: String) -> RedisCondition {
        let code = text.prefix { $0 != " " }.uppercased()
        switch code {
        case "OOM": return .outOfMemory(text)
        case "NOAUTH", "WRONGPASS": return .authenticationFailed(text)
        case "LOADING": return .loading(text)
        case "READONLY": return .readOnly(text)
        case "MISCONF": return .cannotPersist(text)
        case "BUSY": return .busy(text)
        case "CLUSTERDOWN", "TRYAGAIN": return .clusterDown(text)
        default: return .refused(text)
        }
    }

    /// The condition a failed Redis call shows; nil for errors that are not about Redis's health (a fence: another
    /// owner, or lost writes; another deployment on the prefix).
    public static func of(_ error: any Error) -> RedisCondition? {
        switch error {
        case StateStoreError.redis(let e): return of(e)
        case StateStoreError.unexpectedReply(let text):
            // The store reports an error reply where it expected data, as "what: error(\"TEXT\")".
            return text.contains("error(") ? coded(in: text) ?? .refused(text) : nil
        case let e as RedisError: return of(e)
        default: return nil
        }
    }

    static func of(_ error: RedisError) -> RedisCondition {
        switch error.kind {
        case .timeout: .notAnswering(error.message)
        case .auth: .authenticationFailed(error.message)
        // The message is the reply's text, possibly after what was being done ("... rejected script ...: NOAUTH ...").
        case .server, .script: coded(in: error.message) ?? .refused(error.message)
        default: .unreachable(error.message)
        }
    }

    /// The condition of the first error code in `text` (a code followed by a space), from there on.
    static func coded(in text: String) -> RedisCondition? {
        var best: Range<String.Index>?
        for code in codes {
            if let range = text.range(of: code + " "), best.map({ range.lowerBound < $0.lowerBound }) ?? true { best = range }
        }
        guard let best else { return nil }
        var reply = text[best.lowerBound...]
        while let last = reply.last, last == ")" || last == "\"" { reply = reply.dropLast() }
        return of(errorReply: String(reply))
    }

    static let codes = ["OOM", "NOAUTH", "WRONGPASS", "LOADING", "READONLY", "MISCONF", "BUSY", "CLUSTERDOWN", "TRYAGAIN"]
}
