/// Whether the console can reach Kafka, as the page's banner shows it.
public struct KafkaHealth: Sendable, Equatable {
    public var reachable: Bool
    /// When the current state began (wall clock, ms); nil before the first check.
    public var sinceMs: Int64?
    /// The last error, for the banner (never a secret: librdkafka's error text about brokers).
    public var detail: String?
    /// Labels produced and not yet acknowledged.
    public var labelsWaiting: Int

    public init(reachable: Bool = true, sinceMs: Int64? = nil, detail: String? = nil, labelsWaiting: Int = 0) {
        self.reachable = reachable
        self.sinceMs = sinceMs
        self.detail = detail
        self.labelsWaiting = labelsWaiting
    }

    /// Records a probe's result; the time changes only when the state does.
    public mutating func observe(reachable now: Bool, detail: String?, nowMs: Int64) {
        if now != reachable || sinceMs == nil { sinceMs = nowMs }
        reachable = now
        self.detail = now ? nil : detail
    }
}
