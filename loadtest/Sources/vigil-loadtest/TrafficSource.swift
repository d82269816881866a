import VigilTraffic

/// The generator plus the simulated event-time clock: a message due `t` seconds into the run happens at
/// `startMs + t * timeScale` seconds of event time. Event times depend only on the schedule, not on when the
/// publisher got round to sending, so a run's traffic is the same byte for byte whatever the machine does.
struct TrafficSource: Sendable {
    private var generator: TrafficGenerator
    let startMs: Int64
    let timeScale: Double

    init(profile: TrafficProfile, startMs: Int64, timeScale: Double) {
        generator = TrafficGenerator(profile: profile)
        self.startMs = startMs
        self.timeScale = timeScale
    }

    /// Where a run's event time starts: `spanSeconds x timeScale` before `wallNowMs`, so that the run's last message
    /// happens when the run started and none is dated ahead of the wall clock. Vigil refuses transactions dated more
    /// than a day ahead (`--max-future-ms`); started at the wall clock, event time at 600x would pass that after 144 s.
    static func startMs(endingAt wallNowMs: Int64, spanSeconds: Double, timeScale: Double) -> Int64 {
        wallNowMs - Int64((spanSeconds * 1000 * timeScale).rounded())
    }

    mutating func next(atSeconds t: Double) -> GeneratedMessage {
        generator.next(nowMs: startMs + Int64((t * 1000 * timeScale).rounded()))
    }
}
