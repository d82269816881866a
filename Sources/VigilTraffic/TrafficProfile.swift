/// What synthetic traffic a `TrafficGenerator` produces: how many cards, which seed, and how much of the traffic
/// is fraud, out of order, late or malformed, and when the fraud is reported.
///
/// Fractions are shares of messages (of cards for `fraudCardFraction`), each in `0...1`.
public struct TrafficProfile: Sendable, Equatable {
    /// Number of distinct cards. Card activity is skewed: the busiest cards see about 50 times the traffic of the
    /// quietest. For per-card rates that look like real life, choose about (messages per second) x (seconds between
    /// two payments of one card) cards.
    public var cards: Int = 10_000
    /// Everything the generator produces is a function of this seed and of the sequence of `next(nowMs:)` calls.
    public var seed: UInt64 = 42
    /// Share of cards that get a fraud episode at some point (at least one card if above 0; 0 turns fraud off).
    /// Episodes start at a rate of about one per `8 / fraudCardFraction` messages, on the fraud cards in strict
    /// turn, so every fraud card gets one before any gets a second. A start is skipped while the card whose turn it
    /// is still has an episode running, which slows fraud down when the caller's clock runs fast.
    public var fraudCardFraction: Double = 0.002
    /// Share of normal transactions whose event time is shifted back by 1 s to 4 min (within the default allowed
    /// out-of-orderness of 5 min).
    public var outOfOrderFraction: Double = 0.01
    /// Share of normal transactions whose event time is shifted back by 2 h to 6 h (beyond the default allowed
    /// lateness of 1 h + 5 min); those messages have `isLate` set.
    public var lateFraction: Double = 0.0005
    /// Share of messages that break the contract, cycling through every `MalformedKind`.
    public var malformedFraction: Double = 0.001
    /// ISO 3166-1 alpha-2 countries the cards live in (upper case; see `TrafficProfile.supportedHomeCountries`).
    /// About 1.5% of cards additionally live in Japan (JPY) or Kuwait (KWD), so that currencies with 0 and 3
    /// decimals appear in the traffic.
    public var homeCountries: [String] = ["DE", "FR", "NL", "ES", "IT", "GB", "PL", "SE", "AT", "BE"]
    /// Compromised-merchant episodes (fraud pattern `compromised_merchant`), or nil for none (the default). They
    /// change labels only: the messages are byte for byte the same with or without them.
    public var compromisedMerchants: MerchantCompromise?
    /// When labels are reported (`GroundTruth.reportedAtMs`). Changes no message either.
    public var labels = LabelReporting()

    public init() {}

    /// Countries that can be used in `homeCountries`: the generator knows their currency and two real cities.
    public static var supportedHomeCountries: [String] { Geography.countries.map(\.code.description) }
}
