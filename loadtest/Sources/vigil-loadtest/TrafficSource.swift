import VigilTraffic

/// The generator plus the simulated event-time clock: a message due `t` seconds into the run happens at
/// `startMs + t * timeScale` seconds of event time. Event times depend only on the schedule, not on when the
/// publisher got round to sending, so a run's traffic is the same byte for byte whatever the machine does.
///
/// With an attack (`LoadProfile.attack`), `mix` says which messages of the schedule are the attack card's; the
/// attack runs on the same clock, so its payments fall in the same partition time as everyone else's.
struct TrafficSource: Sendable {
    private var generator: TrafficGenerator
    private var attack: CardTestingAttack?
    let mix: TrafficMix
    let startMs: Int64
    let timeScale: Double
    /// How many messages `next` has returned: the index the mix decides on.
    private(set) var index = 0

    init(profile: TrafficProfile, startMs: Int64, timeScale: Double, attack: (seed: UInt64, mix: TrafficMix)? = nil) {
        generator = TrafficGenerator(profile: profile)
        self.startMs = startMs
        self.timeScale = timeScale
        if let attack, attack.mix.attackRate > 0 {
            self.attack = CardTestingAttack(seed: attack.seed, startMs: startMs)
            mix = attack.mix
        } else {
            mix = TrafficMix(normalRate: 1, attackRate: 0)
        }
    }

    /// The attack card's id, if the traffic has an attack.
    var attackCardId: String? { attack.map { String(decoding: $0.cardId, as: UTF8.self) } }

    /// Where a run's event time starts: `spanSeconds x timeScale` before `wallNowMs`, so that the run's last message
    /// happens when the run started and none is dated ahead of the wall clock. Vigil refuses transactions dated more
    /// than a day ahead (`--max-future-ms`); started at the wall clock, event time at 600x would pass that after 144 s.
    static func startMs(endingAt wallNowMs: Int64, spanSeconds: Double, timeScale: Double) -> Int64 {
        wallNowMs - Int64((spanSeconds * 1000 * timeScale).rounded())
    }

    /// The next message of the schedule, due `t` seconds into the run, and whether it is the attack's.
    mutating func next(atSeconds t: Double) -> (message: GeneratedMessage, isAttack: Bool) {
        let nowMs = startMs + Int64((t * 1000 * timeScale).rounded())
        defer { index += 1 }
        if attack != nil, mix.isAttack(index) {
            return (attack!.next(nowMs: nowMs), true)
        }
        return (generator.next(nowMs: nowMs), false)
    }
}
