/// One card's standing habits: where it lives, what it usually spends, where and how it pays.
struct SyntheticCard: Sendable {
    let index: Int
    /// The eight hex digits of the card id.
    let token: UInt32
    let country: Int
    let city: Int
    let currency: Currency
    /// The cardholder's home, for e-commerce payments that carry an IP geolocation.
    let home: GeoPoint
    /// Median everyday amount, in the card's currency (major units).
    let typicalMajor: Double
    let usualMerchantCount: Int
    let merchantSalt: UInt64
    let posShare: Double
    let atmShare: Double

    /// The card's k-th usual merchant: an everyday shop in its home city.
    func usualMerchant(_ k: Int) -> Int {
        let cityCount = Country.cityCount
        let slots = MerchantCatalog.everydayPerCountry / cityCount
        let slot = Int(SplitMix64.hash(merchantSalt, UInt64(k)) % UInt64(slots))
        return MerchantCatalog.everyday(country: country, local: slot * cityCount + city)
    }

    /// Any everyday shop in the card's home city.
    func homeCityMerchant(_ draw: UInt64) -> Int {
        let cityCount = Country.cityCount
        let slots = MerchantCatalog.everydayPerCountry / cityCount
        return MerchantCatalog.everyday(country: country, local: Int(draw % UInt64(slots)) * cityCount + city)
    }

    /// The card's usual cash machine.
    var atm: Int {
        MerchantCatalog.atmBase + country * MerchantCatalog.smallPerCountry
            + Int(merchantSalt >> 40) % MerchantCatalog.smallPerCountry
    }
}
