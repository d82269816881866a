/// Everyday merchant categories: what most of a card's payments are, and how their amounts compare with the card's
/// typical amount.
struct EverydayCategory: Sendable {
    let mcc: Int
    let weight: Double
    let amountFactor: Double
}

/// The synthetic merchants. A merchant id is "m-NNNNN"; the number says what kind of merchant it is, so its mcc and
/// place are the same for every card that pays there:
///
/// | numbers       | merchants                                                  |
/// |---------------|------------------------------------------------------------|
/// | 00000-59999   | everyday shops, 2000 per country, alternating between its two cities |
/// | 60000-69999   | shops abroad, used by impossible travel, 300 per country   |
/// | 70000-79999   | ATMs (mcc 6011), 300 per country                           |
/// | 80000-89999   | legitimate gambling and money transfer sites, 300 per country |
/// | 92000-93999   | account-takeover cash-out sites, 500 per takeover country  |
/// | 94000-97999   | electronics and jewellery shops, 150 per country           |
/// | 98000-99999   | card-testing web shops (mcc 5967 or 6051) in various countries |
enum MerchantCatalog {
    static let everydayCategories: [EverydayCategory] = [
        EverydayCategory(mcc: 5411, weight: 0.30, amountFactor: 1.0),  // grocery
        EverydayCategory(mcc: 5812, weight: 0.22, amountFactor: 0.9),  // restaurants
        EverydayCategory(mcc: 5541, weight: 0.12, amountFactor: 1.7),  // fuel
        EverydayCategory(mcc: 5311, weight: 0.10, amountFactor: 1.6),  // department stores
        EverydayCategory(mcc: 4111, weight: 0.10, amountFactor: 0.15),  // local transit
        EverydayCategory(mcc: 5999, weight: 0.16, amountFactor: 0.8),  // miscellaneous retail
    ]

    static let everydayPerCountry = 2000
    static let abroadBase = 60_000
    static let atmBase = 70_000
    static let riskyBase = 80_000
    static let smallPerCountry = 300
    static let takeoverBase = 92_000
    static let takeoverPerCountry = 500
    static let spreeBase = 94_000
    static let spreePerCountry = 150
    static let cardTestingBase = 98_000
    static let cardTestingCount = 2000

    static let atmMCC = 6011
    static let fuelMCC = 5541

    /// The everyday merchant `local` of `country`; it lies in city `local % cityCount`.
    static func everyday(country: Int, local: Int) -> Int {
        country * everydayPerCountry + local
    }

    static func category(ofEveryday number: Int) -> EverydayCategory {
        var u = Double(SplitMix64.mix(UInt64(number) ^ 0xE7E2_DA41) >> 11) * 0x1.0p-53
        for category in everydayCategories {
            if u < category.weight { return category }
            u -= category.weight
        }
        return everydayCategories[everydayCategories.count - 1]
    }

    /// Picks one of two mccs by the merchant number, so a merchant keeps its mcc.
    static func either(_ first: Int, _ second: Int, for number: Int) -> Int {
        SplitMix64.mix(UInt64(number) ^ 0x0C0D_E5) & 1 == 0 ? first : second
    }

    /// The fixed place of a merchant in `country`: near one of its cities (a few kilometres from the centre).
    static func location(of number: Int, in country: Country, city: Int? = nil) -> GeoPoint {
        let h = SplitMix64.mix(UInt64(number) ^ 0x6E0_C0DE)
        let centre = country.city(city ?? Int(h % UInt64(Country.cityCount)))
        let dLat = (Double((h >> 16) & 0xFFFF) / 65_535.0 - 0.5) * 0.06
        let dLon = (Double((h >> 32) & 0xFFFF) / 65_535.0 - 0.5) * 0.09
        return GeoPoint(lat: centre.lat + dLat, lon: centre.lon + dLon)
    }

    /// The country a card-testing web shop is registered in.
    static func cardTestingCountry(of number: Int) -> Int {
        Int(SplitMix64.mix(UInt64(number) ^ 0x7E57) % UInt64(Geography.countries.count))
    }
}

/// The generator's merchants as others see them: how many numbers there are and the `merchant_id` of each, written
/// as the generated transactions write it (for tools that need every merchant, such as the load test's snapshot).
public enum SyntheticMerchants {
    /// Merchant numbers run from 0 to `count - 1` (see `MerchantCatalog`).
    public static let count = MerchantCatalog.cardTestingBase + MerchantCatalog.cardTestingCount

    public static func id(_ number: Int) -> String { JSONByteWriter.merchantId(number) }
}
