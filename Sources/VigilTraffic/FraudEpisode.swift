/// A fraud episode in progress on one card: which steps are left and when the next one is due.
struct FraudEpisode: Sendable {
    let pattern: FraudPattern
    let card: Int
    /// When the episode started (its first step), on the caller's clock.
    let startMs: Int64
    /// Planned time of each step after `startMs`, increasing from 0; one entry per step.
    let offsetsMs: [Int64]
    /// Where the fraud is operated from: a distant country for account takeover and impossible travel, else the
    /// card's home.
    let country: Int
    /// The episode's merchants are `merchantBase ..< merchantBase + merchantPool`.
    let merchantBase: Int
    let merchantPool: Int
    var step = 0

    var stepCount: Int { offsetsMs.count }
    var isFinished: Bool { step >= offsetsMs.count }
    /// When the next step is planned; `Int64.max` once the episode is finished.
    var nextDueMs: Int64 { isFinished ? .max : startMs + offsetsMs[step] }
}
