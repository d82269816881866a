/// Event time of one partition: the highest accepted event time, the watermark, and the lateness test.
public struct PartitionClock: Sendable, Equatable {
    /// Highest event time accepted on the partition, nil before the first.
    public var maxEventMs: Int64?

    public init(maxEventMs: Int64? = nil) { self.maxEventMs = maxEventMs }

    /// Highest event time minus the allowed out-of-orderness.
    public func watermark(_ config: FeatureConfig) -> Int64? {
        maxEventMs.map { $0 &- config.outOfOrdernessMs }
    }

    /// How far a transaction at `eventTimeMs` is beyond the allowed lateness (ms), or nil if it is not late.
    public func lateness(of eventTimeMs: Int64, _ config: FeatureConfig) -> Int64? {
        guard let watermark = watermark(config) else { return nil }
        let limit = watermark &- config.latenessMs
        return eventTimeMs < limit ? limit - eventTimeMs : nil
    }

    public mutating func observe(_ eventTimeMs: Int64) {
        if let current = maxEventMs, current >= eventTimeMs { return }
        maxEventMs = eventTimeMs
    }
}
