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

    mutating func next(atSeconds t: Double) -> GeneratedMessage {
        generator.next(nowMs: startMs + Int64((t * 1000 * timeScale).rounded()))
    }
}
