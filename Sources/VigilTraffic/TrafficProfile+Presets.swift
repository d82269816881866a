extension TrafficProfile {
    /// Weeks of history for the batch layer (merchant risk, retraining) at a modest message count: 10,000 cards in
    /// two countries (4,000 everyday merchants, so each sees tens of payments a month from tens of cards), fraud
    /// cards at 0.5 % and compromised merchants at 1 % per 60 days (0.4 % compromised at any time). Meant for
    /// `SimulatedTimeline.merchantHistory` (300,000 messages over 50 days, about 30 per card); the fraud shares are
    /// about 0.6 % card-episode fraud and 0.35 % compromised-merchant fraud of the transactions.
    public static func merchantHistory(seed: UInt64 = 42) -> TrafficProfile {
        var profile = TrafficProfile()
        profile.seed = seed
        profile.cards = 10_000
        profile.homeCountries = ["DE", "FR"]
        profile.fraudCardFraction = 0.005
        profile.compromisedMerchants = MerchantCompromise(merchantFraction: 0.01)
        return profile
    }
}

/// A simulated clock for a run of generated messages spread evenly over a number of days: message `i` (from 0)
/// happens at `startMs + i * (endMs - startMs) / messages`.
///
/// The generator's event time is the caller's clock (`TrafficGenerator.next(nowMs:)`): the span a run covers is the
/// caller's choice, and with it how often a card pays (messages x (cards' share) / days).
public struct SimulatedTimeline: Sendable, Equatable {
    public var startMs: Int64
    public var endMs: Int64
    public var messages: Int

    /// `messages` messages over `days` days ending at `endMs` (`days` > 0, `messages` >= 1).
    public init(endMs: Int64, days: Double, messages: Int) {
        precondition(days > 0 && messages >= 1, "SimulatedTimeline needs days > 0 and messages >= 1")
        self.endMs = endMs
        startMs = endMs - Int64((days * 86_400_000).rounded())
        self.messages = messages
    }

    /// 300,000 messages over 50 days ending at `endMs`, one every 14.4 s: enough for a merchant-risk cut with the
    /// default 30-day windows and 7-day label delay, and then some, in well under a minute of generating.
    public static func merchantHistory(endMs: Int64) -> SimulatedTimeline {
        SimulatedTimeline(endMs: endMs, days: 50, messages: 300_000)
    }

    /// The clock for message `index`.
    public func nowMs(ofMessage index: Int) -> Int64 {
        startMs + Int64((Double(endMs - startMs) * Double(index) / Double(messages)).rounded())
    }
}
