/// Settings that the feature definitions and the state horizon depend on.
public struct FeatureConfig: Sendable, Equatable {
    /// Allowed out-of-orderness: the watermark trails the highest event time by this much.
    public var outOfOrdernessMs: Int64
    /// Allowed lateness: transactions older than the watermark minus this are late.
    public var latenessMs: Int64
    /// MCC codes that set `high_risk_mcc`.
    public var highRiskMccs: Set<UInt16>
    /// How far ahead of its reference time (`ScoringStep.referenceMs`) a transaction may be dated. One dated further
    /// ahead is refused (`fraud.dlq`, `out_of_range:event_time_ms`): accepted, it would move the partition's
    /// watermark so far that every later transaction of the partition would be late, and so never scored.
    public var maxFutureMs: Int64

    public static let defaultHighRiskMccs: Set<UInt16> = [4829, 5967, 6051, 7995]

    public init(
        outOfOrdernessMs: Int64 = 5 * 60_000,
        latenessMs: Int64 = 60 * 60_000,
        highRiskMccs: Set<UInt16> = FeatureConfig.defaultHighRiskMccs,
        maxFutureMs: Int64 = Windows.day
    ) {
        self.outOfOrdernessMs = outOfOrdernessMs
        self.latenessMs = latenessMs
        self.highRiskMccs = highRiskMccs
        self.maxFutureMs = maxFutureMs
    }

    /// Whether a transaction at `eventTimeMs` is dated more than `maxFutureMs` after `referenceMs`. Never traps:
    /// when `referenceMs + maxFutureMs` is beyond `Int64.max`, no event time is too far ahead.
    public func isTooFarAhead(_ eventTimeMs: Int64, referenceMs: Int64) -> Bool {
        let (limit, overflow) = referenceMs.addingReportingOverflow(maxFutureMs)
        return !overflow && eventTimeMs > limit
    }

    /// Events at or below `maxEventMs - foldHorizonMs` can no longer fall in a 24 h window of an admissible
    /// transaction, so they are folded into the card's aggregate.
    public var foldHorizonMs: Int64 { Windows.day + outOfOrdernessMs + latenessMs }

    /// How long an idle card's state must live: the longest window (30 days) plus the lateness bounds.
    public var stateTTLMs: Int64 { Windows.thirtyDays + outOfOrdernessMs + latenessMs }
}

/// Window lengths of the catalog, in milliseconds.
public enum Windows {
    public static let minute: Int64 = 60_000
    public static let tenMinutes: Int64 = 600_000
    public static let hour: Int64 = 3_600_000
    public static let day: Int64 = 86_400_000
    public static let thirtyDays: Int64 = 30 * 86_400_000
    /// Time constant of the decayed mean behind `amount_vs_avg`.
    public static let meanTimeConstant: Int64 = 7 * 86_400_000
    /// The UTC day of a time: days since the epoch, rounded down (times before 1970 fall on negative days).
    public static func utcDay(_ ms: Int64) -> Int32 {
        let (q, r) = ms.quotientAndRemainder(dividingBy: day)
        return Int32(truncatingIfNeeded: r < 0 ? q - 1 : q)
    }
    /// Cap of `seconds_since_last`, in seconds.
    public static let secondsSinceLastCap: Double = 2_592_000
}
