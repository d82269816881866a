/// A fraud episode in progress on one card: which steps are left and when the next one is due.
struct FraudEpisode: Sendable {
    let pattern: FraudPattern
    let card: Int
    /// Planned pauses between consecutive steps; the episode has `gapsMs.count + 1` steps. A step is emitted at the
    /// first call whose clock has reached it, and the next pause counts from there, so the episode keeps its shape
    /// whatever the caller's message rate.
    let gapsMs: [Int64]
    /// Where the fraud is operated from: a distant country for account takeover and impossible travel, else the
    /// card's home.
    let country: Int
    /// The episode's merchants are `merchantBase ..< merchantBase + merchantPool`.
    let merchantBase: Int
    let merchantPool: Int
    var step = 0
    var nextDueMs: Int64

    var stepCount: Int { gapsMs.count + 1 }
}
