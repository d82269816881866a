/// When the fraud team's labels (`fraud.labels`) for generated transactions are reported, as chargebacks and case
/// systems report them: fraud days after the payment, some never; genuine payments mostly never.
///
/// The report time of each transaction is drawn from its own stream (seed and transaction sequence), never from the
/// generator's main stream, so the messages are the same whatever these settings are.
public struct LabelReporting: Sendable, Equatable {
    /// Share of fraud that is never reported (the cardholder never noticed, no chargeback was filed), in `0...1`.
    public var fraudNeverReportedFraction: Double = 0.25
    /// Median delay between a fraudulent payment and its label, in days: log-normal around it.
    public var fraudMedianDelayDays: Double = 5
    /// Spread of the fraud delay: the standard deviation of its logarithm (0.8: half of the labels within 3-8.5
    /// days of a 5-day median).
    public var fraudDelaySigma: Double = 0.8
    /// Fraud delays are clamped to `fraudMinDelayDays...fraudMaxDelayDays` (> 0: a label is never reported before
    /// its payment).
    public var fraudMinDelayDays: Double = 1
    public var fraudMaxDelayDays: Double = 30
    /// Share of genuine payments labelled not fraud (say a cardholder confirmed a payment), in `0...1`; reported
    /// uniformly 1-7 days after the payment. The rest is never labelled.
    public var genuineLabelledFraction: Double = 0

    public init() {}

    var problems: [String] {
        var problems = [String]()
        for (name, value) in [
            ("fraudNeverReportedFraction", fraudNeverReportedFraction),
            ("genuineLabelledFraction", genuineLabelledFraction),
        ] where !(0...1).contains(value) {
            problems.append("\(name) must be in 0...1, got \(value)")
        }
        if !(fraudMedianDelayDays > 0 && fraudDelaySigma >= 0 && fraudDelaySigma.isFinite) {
            problems.append("fraudMedianDelayDays must be > 0 and fraudDelaySigma >= 0")
        }
        if !(fraudMinDelayDays > 0 && fraudMinDelayDays <= fraudMaxDelayDays && fraudMaxDelayDays <= 3650) {
            problems.append("need 0 < fraudMinDelayDays <= fraudMaxDelayDays <= 3650")
        }
        return problems
    }
}

/// Report times for one profile.
struct LabelSchedule: Sendable {
    let settings: LabelReporting
    private let salt: UInt64
    static let dayMs = 86_400_000.0

    init(_ settings: LabelReporting, seed: UInt64) {
        self.settings = settings
        salt = SplitMix64.hash(seed, 0x1ABE1)
    }

    /// When the label of transaction `sequence` (fraud or not) paid at `eventTimeMs` is reported; nil if never.
    func reportedAtMs(isFraud: Bool, eventTimeMs: Int64, sequence: Int) -> Int64? {
        var random = SplitMix64(seed: SplitMix64.hash(salt, UInt64(sequence)))
        let days: Double
        if isFraud {
            guard random.unit() >= settings.fraudNeverReportedFraction else { return nil }
            let drawn = random.logNormal(median: settings.fraudMedianDelayDays, sigma: settings.fraudDelaySigma)
            days = min(max(drawn, settings.fraudMinDelayDays), settings.fraudMaxDelayDays)
        } else {
            guard random.unit() < settings.genuineLabelledFraction else { return nil }
            days = random.double(in: 1, 7)
        }
        return eventTimeMs + Int64((days * Self.dayMs).rounded())
    }
}
