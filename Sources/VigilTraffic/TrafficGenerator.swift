/// Deterministic synthetic card traffic with ground truth, for the demo, the integration and load tests and the
/// retraining tests.
///
/// Deterministic for a given profile (seed): the same sequence of calls gives the same messages byte for byte.
/// Memory stays constant in the number of cards: a card's habits are derived from (seed, card index) when needed;
/// only the fraud episodes in progress are stored.
public struct TrafficGenerator: Sendable {
    public let profile: TrafficProfile
    /// How many messages `next(nowMs:)` has returned.
    public private(set) var generatedCount = 0

    var random: Xoshiro256StarStar
    let population: CardPopulation
    let transactionPrefix: UInt32
    var fraud: FraudSchedule
    let compromised: CompromisedMerchants?
    let labelSchedule: LabelSchedule
    var malformedCount = 0

    /// Creates a generator. Traps if the profile is invalid: `cards` in 1..<2^32, fractions in 0...1,
    /// `homeCountries` non-empty and all in `TrafficProfile.supportedHomeCountries`, and `compromisedMerchants` and
    /// `labels` as their documentation says.
    public init(profile: TrafficProfile) {
        precondition(profile.cards >= 1 && UInt64(profile.cards) < 1 << 32, "TrafficProfile.cards must be in 1..<2^32")
        for (name, value) in [
            ("fraudCardFraction", profile.fraudCardFraction), ("outOfOrderFraction", profile.outOfOrderFraction),
            ("lateFraction", profile.lateFraction), ("malformedFraction", profile.malformedFraction),
        ] {
            precondition(value >= 0 && value <= 1, "TrafficProfile.\(name) must be in 0...1, got \(value)")
        }
        precondition(!profile.homeCountries.isEmpty, "TrafficProfile.homeCountries must not be empty")
        let homeCountries = profile.homeCountries.map { code in
            guard let index = Geography.index(of: code) else {
                preconditionFailure(
                    "TrafficProfile.homeCountries: unsupported country \(code); supported: "
                        + TrafficProfile.supportedHomeCountries.joined(separator: " "))
            }
            return index
        }
        let problems = (profile.compromisedMerchants?.problems ?? []) + profile.labels.problems
        precondition(problems.isEmpty, "TrafficProfile: " + problems.joined(separator: "; "))
        self.profile = profile
        compromised = profile.compromisedMerchants.map { CompromisedMerchants($0, seed: profile.seed) }
        labelSchedule = LabelSchedule(profile.labels, seed: profile.seed)
        random = Xoshiro256StarStar(seed: profile.seed)
        population = CardPopulation(profile: profile, homeCountries: homeCountries)
        transactionPrefix = UInt32(truncatingIfNeeded: SplitMix64.hash(profile.seed, 0x7478) >> 32)
        fraud = FraudSchedule(profile: profile, random: &random)
    }

    /// The next message, with an event time around `nowMs` (the caller's clock: wall clock in the demo, a simulated
    /// clock in tests).
    ///
    /// A message is, in this order of precedence: malformed (`malformedFraction`); the next step of a fraud episode
    /// that is due; the first step of a new episode; or a normal payment of a card picked by its activity (labelled
    /// `compromised_merchant` fraud if its merchant is compromised at the time, see `MerchantCompromise`). Normal
    /// payments are occasionally out of order or late; episode steps never are (beyond what a coarse caller clock forces),
    /// so episodes keep their shape.
    public mutating func next(nowMs: Int64) -> GeneratedMessage {
        generatedCount += 1
        if profile.malformedFraction > 0, random.unit() < profile.malformedFraction {
            return malformedMessage(nowMs: nowMs)
        }
        if nowMs >= fraud.earliestDueMs, let index = fraud.dueEpisode(nowMs: nowMs) {
            return episodeStep(index, nowMs: nowMs)
        }
        if fraud.startProbability > 0, random.unit() < fraud.startProbability, let index = startEpisode(nowMs: nowMs) {
            return episodeStep(index, nowMs: nowMs)
        }
        return normalMessage(nowMs: nowMs)
    }

    /// Writes `draft` (changed by `defect`) and packages it with its key and label. A genuine payment at a merchant
    /// while it is compromised is labelled fraud.
    func message(
        _ draft: TransactionDraft, defect: Defect = .none, label: (isFraud: Bool, pattern: FraudPattern?)?,
        malformed: MalformedKind? = nil, isLate: Bool = false, key: [UInt8]? = nil
    ) -> GeneratedMessage {
        var capacity = JSONByteWriter.transactionCapacity
        if case .padding(let count) = defect { capacity += count }
        var idRange: Range<Int>?
        let value = JSONByteWriter.bytes(capacity: capacity) { writer in
            idRange = writer.transaction(draft, idPrefix: transactionPrefix, defect: defect)
        }
        let cardId = JSONByteWriter.cardId(draft.cardToken)
        var truth: GroundTruth?
        if var label, let idRange {
            if !label.isFraud, compromised?.episode(merchant: draft.merchant, atMs: draft.eventTimeMs) != nil {
                label = (true, .compromisedMerchant)
            }
            truth = GroundTruth(
                transactionId: String(decoding: value[idRange], as: UTF8.self),
                cardId: String(decoding: cardId, as: UTF8.self),
                isFraud: label.isFraud,
                pattern: label.pattern,
                eventTimeMs: draft.eventTimeMs,
                reportedAtMs: labelSchedule.reportedAtMs(
                    isFraud: label.isFraud, eventTimeMs: draft.eventTimeMs, sequence: draft.sequence),
                merchantId: JSONByteWriter.merchantId(draft.merchant)
            )
        }
        return GeneratedMessage(
            key: key ?? cardId, value: value, truth: truth, malformed: malformed, isLate: isLate)
    }

    /// The compromised-merchant episode that payments at `merchantId` (`m-NNNNN`) at `timeMs` fall in, if any: every
    /// payment at the merchant within it is labelled `compromised_merchant`.
    public func compromisedEpisode(merchantId: String, atMs timeMs: Int64) -> Range<Int64>? {
        guard let compromised, merchantId.hasPrefix("m-"), let number = Int(merchantId.dropFirst(2)) else { return nil }
        return compromised.episode(merchant: number, atMs: timeMs)
    }

    /// Event time of a message produced now: payments reach Kafka a fraction of a second after they happen.
    mutating func freshEventTime(nowMs: Int64) -> Int64 {
        nowMs - Int64(random.below(250))
    }
}
