/// One second of a run, as the live line shows it and the per-second table and chart report it.
struct Sample: Sendable, Codable {
    /// Seconds since the measurement started, at the end of this second.
    var second: Int
    /// Target publish rate during this second (open loop), or nil.
    var targetRate: Double?
    var published: Int
    /// Outcomes (decisions, late, DLQ) received in this second.
    var outcomes: Int
    var decisions: Int
    /// Published minus outcomes, at the end of the second.
    var lag: Int
    /// Decision latency from the scheduled send time, of the decisions received in this second, ms.
    var p50Ms: Double?
    var p99Ms: Double?
    var maxMs: Double?
    var vigilCPUPercent: Double?
    var vigilRSSBytes: Int64?
    var toolCPUPercent: Double?
    var redisUsedMemory: Int64?
}
