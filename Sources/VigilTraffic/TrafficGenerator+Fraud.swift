extension TrafficGenerator {
    /// Starts an episode on the fraud card whose turn it is; nil while that card's previous episode still runs.
    mutating func startEpisode(nowMs: Int64) -> Int? {
        guard let cardIndex = fraud.nextCard() else { return nil }
        let pattern = fraud.nextPattern(random: &random)
        let card = population.card(at: cardIndex)
        let offsets: [Int64]
        var country = card.country
        let merchantBase: Int
        var merchantPool = 1

        switch pattern {
        case .cardTesting:
            offsets = plannedOffsets(steps: random.int(in: 10...40), totalMs: Int64(random.int(in: 55_000...175_000)))
            merchantPool = random.int(in: 1...4)
            merchantBase = MerchantCatalog.cardTestingBase
                + random.below(MerchantCatalog.cardTestingCount - merchantPool)
        case .accountTakeover:
            let candidates = Geography.accountTakeoverCountries.filter { $0 != card.country }
            let slot = random.below(candidates.count)
            country = candidates[slot]
            let steps = random.int(in: 3...8)
            offsets = plannedOffsets(steps: steps, totalMs: Int64(random.int(in: 10...55)) * Self.minuteMs)
            merchantPool = steps
            let takeoverSlot = Geography.accountTakeoverCountries.firstIndex(of: country)!
            merchantBase = MerchantCatalog.takeoverBase + takeoverSlot * MerchantCatalog.takeoverPerCountry
                + random.below(MerchantCatalog.takeoverPerCountry - steps)
        case .highValueSpree:
            let steps = random.int(in: 4...10)
            offsets = plannedOffsets(steps: steps, totalMs: Int64(random.int(in: 5...28)) * Self.minuteMs)
            merchantPool = steps
            merchantBase = MerchantCatalog.spreeBase + card.country * MerchantCatalog.spreePerCountry
                + random.below(MerchantCatalog.spreePerCountry - steps)
        case .impossibleTravel:
            let home = Geography.countries[card.country].continent
            let candidates = Geography.distantCountries.filter { Geography.countries[$0].continent != home }
            country = candidates[random.below(candidates.count)]
            offsets = [0, Int64(random.int(in: 10 * 60_000...58 * 60_000))]
            merchantBase = MerchantCatalog.abroadBase + country * MerchantCatalog.smallPerCountry
                + random.below(MerchantCatalog.smallPerCountry)
        case .compromisedMerchant:
            preconditionFailure("compromised_merchant is not a card episode (FraudPattern.cardEpisodes)")
        }
        return fraud.add(
            FraudEpisode(
                pattern: pattern, card: cardIndex, startMs: nowMs, offsetsMs: offsets, country: country,
                merchantBase: merchantBase, merchantPool: merchantPool))
    }

    /// Planned times of `steps` steps from 0 to about `totalMs`, separated by pauses of uneven length.
    mutating func plannedOffsets(steps: Int, totalMs: Int64) -> [Int64] {
        var weights = [Double]()
        weights.reserveCapacity(steps - 1)
        for _ in 1..<steps { weights.append(random.double(in: 0.2, 1.8)) }
        let sum = weights.reduce(0, +)
        var offsets: [Int64] = [0]
        offsets.reserveCapacity(steps)
        var elapsed = 0.0
        for weight in weights {
            elapsed += weight
            offsets.append(Int64(Double(totalMs) * elapsed / sum))
        }
        return offsets
    }

    /// The most an episode step's event time lags behind the caller's clock: within the default allowed
    /// out-of-orderness of 5 minutes.
    static let maxEpisodeLagMs: Int64 = 240_000

    /// Emits the due step of episode `index`.
    ///
    /// The first step happens now; each later one carries its planned time as event time, or 4 minutes before
    /// `nowMs` if it is further behind, so an episode keeps its shape in event time even when the caller's clock
    /// advances in coarse steps (steps that are due take precedence over other traffic).
    mutating func episodeStep(_ index: Int, nowMs: Int64) -> GeneratedMessage {
        var episode = fraud.episodes[index]
        let card = population.card(at: episode.card)
        let eventTimeMs = episode.step == 0
            ? freshEventTime(nowMs: nowMs) : max(episode.nextDueMs, nowMs - Self.maxEpisodeLagMs)
        let draft: TransactionDraft
        var isFraud = true

        switch episode.pattern {
        case .cardTesting:
            let merchant = episode.merchantBase + random.below(episode.merchantPool)
            draft = fraudDraft(
                card, merchant: merchant, mcc: MerchantCatalog.either(5967, 6051, for: merchant),
                country: MerchantCatalog.cardTestingCountry(of: merchant), channel: .ecom, location: nil,
                major: random.double(in: 0.50, 2.00) * card.currency.perEuro, eventTimeMs: eventTimeMs)
        case .accountTakeover:
            let merchant = episode.merchantBase + episode.step
            draft = fraudDraft(
                card, merchant: merchant, mcc: MerchantCatalog.either(4829, 7995, for: merchant),
                country: episode.country, channel: .ecom,
                location: MerchantCatalog.location(of: merchant, in: Geography.countries[episode.country]),
                major: card.typicalMajor * random.double(in: 5, 20), eventTimeMs: eventTimeMs)
        case .highValueSpree:
            let merchant = episode.merchantBase + episode.step
            let inStore = random.chance(0.7)
            draft = fraudDraft(
                card, merchant: merchant, mcc: MerchantCatalog.either(5732, 5944, for: merchant),
                country: card.country, channel: inStore ? .pos : .ecom,
                location: inStore
                    ? MerchantCatalog.location(of: merchant, in: Geography.countries[card.country], city: card.city)
                    : nil,
                major: card.typicalMajor * random.double(in: 10, 50), eventTimeMs: eventTimeMs)
        case .impossibleTravel:
            if episode.step == 0 {
                // The cardholder's genuine payment near home, before the cloned card turns up far away (labelled
                // fraud only if that merchant happens to be compromised).
                draft = everydayDraft(card, eventTimeMs: eventTimeMs, channel: .pos)
                isFraud = false
            } else {
                let merchant = episode.merchantBase
                draft = fraudDraft(
                    card, merchant: merchant, mcc: MerchantCatalog.category(ofEveryday: merchant).mcc,
                    country: episode.country, channel: .pos,
                    location: MerchantCatalog.location(of: merchant, in: Geography.countries[episode.country]),
                    major: card.typicalMajor * random.double(in: 1, 4), eventTimeMs: eventTimeMs)
            }
        case .compromisedMerchant:
            preconditionFailure("compromised_merchant is not a card episode (FraudPattern.cardEpisodes)")
        }

        episode.step += 1
        fraud.update(episode, at: index)
        return message(draft, label: (isFraud, isFraud ? episode.pattern : nil))
    }

    private func fraudDraft(
        _ card: SyntheticCard, merchant: Int, mcc: Int, country: Int, channel: Channel, location: GeoPoint?,
        major: Double, eventTimeMs: Int64
    ) -> TransactionDraft {
        TransactionDraft(
            sequence: generatedCount, cardToken: card.token,
            amountMinor: TransactionDraft.minorUnits(major, in: card.currency), currency: card.currency,
            merchant: merchant, mcc: mcc, country: country, channel: channel, location: location,
            eventTimeMs: eventTimeMs)
    }
}
