import VigilTraffic

/// Traffic that brings a freshly started Vigil to its steady state before the measurement: every output topic
/// used once (decisions, alerts, late, DLQ). librdkafka looks up a topic's metadata the first time a producer
/// writes to it, which holds Vigil's batch for most of a second; without this the first alert, late and DLQ
/// message of the measurement would each show up as a latency spike.
///
/// Its cards and transaction ids come from another seed, so the measured cards start without warm-up history
/// (ids of both seeds may coincide for a handful of cards out of 2^32).
struct Warmup {
    private var source: TrafficSource

    init(settings: LoadTestSettings, startMs: Int64) {
        var profile = settings.profile
        profile.seed = settings.seed ^ 0x5741_524D_5550  // "WARMUP"
        profile.fraudCardFraction = 0.2
        profile.lateFraction = 0.05
        profile.malformedFraction = 0.02
        source = TrafficSource(profile: profile, startMs: startMs, timeScale: settings.timeScale)
    }

    /// The next round of `count` messages, spread over the first simulated seconds (so that partition clocks
    /// advance and the late messages are late).
    mutating func round(_ index: Int, count: Int) -> [GeneratedMessage] {
        (0..<count).map { i in source.next(atSeconds: (Double(index * count + i) / Double(count)) * 0.2).message }
    }

    /// Whether the warm-up has touched every output topic.
    static func isComplete(_ c: Ledger.Counts) -> Bool {
        c.outcomes >= c.published && c.decisions > 0 && c.alerts > 0 && c.late > 0 && c.dlq > 0
    }
}
