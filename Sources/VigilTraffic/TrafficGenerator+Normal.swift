extension TrafficGenerator {
    static let minuteMs: Int64 = 60_000
    static let hourMs: Int64 = 3_600_000

    /// A cardholder's own payment, now or (rarely) shifted back out of order or beyond lateness.
    mutating func normalMessage(nowMs: Int64) -> GeneratedMessage {
        let card = population.card(at: population.pick(random.unit()))
        var eventTimeMs = freshEventTime(nowMs: nowMs)
        var isLate = false
        let disorder = random.unit()
        if disorder < profile.lateFraction {
            eventTimeMs = nowMs - Int64(random.int(in: Int(2 * Self.hourMs)...Int(6 * Self.hourMs)))
            isLate = true
        } else if disorder < profile.lateFraction + profile.outOfOrderFraction {
            eventTimeMs = nowMs - Int64(random.int(in: 1_000...240_000))
        }
        let draft = everydayDraft(card, eventTimeMs: eventTimeMs)
        return message(draft, label: (false, nil), isLate: isLate)
    }

    /// A payment the card's holder makes: mostly at usual shops near home, sometimes somewhere new, online, at a
    /// cash machine, a legitimate bet or transfer, or an unusually large purchase.
    mutating func everydayDraft(_ card: SyntheticCard, eventTimeMs: Int64, channel forced: Channel? = nil) -> TransactionDraft {
        let country = Geography.countries[card.country]
        let u = random.unit()
        let channel = forced ?? (u < card.posShare ? .pos : u < card.posShare + card.atmShare ? .atm : .ecom)
        var draft = TransactionDraft(
            sequence: generatedCount, cardToken: card.token, amountMinor: 1, currency: card.currency, merchant: 0,
            mcc: 0, country: card.country, channel: channel, location: nil, eventTimeMs: eventTimeMs)

        if channel == .atm {
            draft.merchant = card.atm
            draft.mcc = MerchantCatalog.atmMCC
            draft.amountMinor = cashAmount(card)
            draft.location = MerchantCatalog.location(of: draft.merchant, in: country)
            return draft
        }

        var amountFactor = 1.0
        let kind = random.unit()
        if channel == .ecom && kind < 0.02 {
            draft.merchant = MerchantCatalog.riskyBase + card.country * MerchantCatalog.smallPerCountry
                + random.below(MerchantCatalog.smallPerCountry)
            draft.mcc = MerchantCatalog.either(7995, 4829, for: draft.merchant)
        } else {
            if kind < 0.06 {
                draft.merchant = card.homeCityMerchant(random.next())
            } else {
                let r = random.unit()
                draft.merchant = card.usualMerchant(Int(Double(card.usualMerchantCount) * r * r))
            }
            var category = MerchantCatalog.category(ofEveryday: draft.merchant)
            if channel == .ecom && category.mcc == MerchantCatalog.fuelMCC {
                // Nobody buys fuel online: pay at another shop near home instead.
                draft.merchant = card.homeCityMerchant(random.next())
                category = MerchantCatalog.category(ofEveryday: draft.merchant)
                if category.mcc == MerchantCatalog.fuelMCC { draft.channel = .pos }
            }
            draft.mcc = category.mcc
            amountFactor = category.amountFactor
        }
        var major = card.typicalMajor * amountFactor * random.logNormal(median: 1, sigma: 0.6)
        if random.chance(0.01) { major *= random.double(in: 4, 12) }
        draft.amountMinor = TransactionDraft.minorUnits(major, in: card.currency)

        if draft.channel == .pos {
            draft.location = MerchantCatalog.location(of: draft.merchant, in: country, city: card.city)
        } else if random.chance(0.2) {
            // An e-commerce payment geolocated by IP: near the cardholder's home.
            draft.location = GeoPoint(
                lat: Double(card.home.latE5) / 100_000 + random.double(in: -0.01, 0.01),
                lon: Double(card.home.lonE5) / 100_000 + random.double(in: -0.01, 0.01))
        }
        return draft
    }

    /// A cash withdrawal: a round amount worth 20-200 euro in the card's currency.
    mutating func cashAmount(_ card: SyntheticCard) -> Int64 {
        let euro: [Double] = [20, 40, 50, 50, 100, 100, 150, 200]
        let value = euro[random.below(euro.count)] * card.currency.perEuro
        var unit = 1.0
        while value >= unit * 100 { unit *= 10 }
        while value < unit * 10 { unit /= 10 }
        return TransactionDraft.minorUnits((value / unit).rounded() * unit, in: card.currency)
    }
}
