#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// All cards of a profile. A card is derived from (seed, index) whenever it is needed, so memory stays constant
/// however many cards there are.
struct CardPopulation: Sendable {
    let count: Int
    private let homeCountries: [Int]
    private let salt: UInt64
    private let tokenKey: UInt64
    /// Card activity density is proportional to 1 / (x + skew) over x = index / count in [0, 1): the busiest card
    /// is (1 + skew) / skew = 51 times as active as the quietest.
    private let skew = 0.02
    private let skewLog: Double

    init(profile: TrafficProfile, homeCountries: [Int]) {
        count = profile.cards
        self.homeCountries = homeCountries
        salt = SplitMix64.hash(profile.seed, 0xCA2D)
        tokenKey = SplitMix64.hash(profile.seed, 0x70CE)
        skewLog = log(1 + 1 / skew)
    }

    /// A card index for a uniform draw `u` in [0, 1), following the skewed activity.
    func pick(_ u: Double) -> Int {
        let x = skew * (exp(u * skewLog) - 1)
        return min(Int(x * Double(count)), count - 1)
    }

    /// The card id's eight hex digits: a keyed permutation of the index, so ids never collide.
    func token(of index: Int) -> UInt32 {
        // Every step is invertible on 32 bits (xor with a constant, multiply by an odd number, xorshift, add).
        var v = UInt32(truncatingIfNeeded: index) ^ UInt32(truncatingIfNeeded: tokenKey)
        v &*= 0x9E37_79B1
        v ^= v >> 16
        v &+= UInt32(truncatingIfNeeded: tokenKey >> 32)
        v &*= 0x85EB_CA6B
        v ^= v >> 13
        v &*= 0xC2B2_AE35
        v ^= v >> 16
        return v
    }

    func card(at index: Int) -> SyntheticCard {
        var random = SplitMix64(seed: SplitMix64.hash(salt, UInt64(index)))
        let residence = random.unit()
        let country: Int
        if residence < 0.010 {
            country = Geography.japan
        } else if residence < 0.015 {
            country = Geography.kuwait
        } else {
            country = homeCountries[random.below(homeCountries.count)]
        }
        let place = Geography.countries[country]
        let city = random.below(Country.cityCount)
        let centre = place.city(city)
        let home = GeoPoint(lat: centre.lat + random.double(in: -0.04, 0.04), lon: centre.lon + random.double(in: -0.06, 0.06))
        let typicalEuro = random.logNormal(median: 30, sigma: 0.5)
        let posShare = random.double(in: 0.55, 0.80)
        let atmShare = random.double(in: 0.02, 0.06)
        return SyntheticCard(
            index: index,
            token: token(of: index),
            country: country,
            city: city,
            currency: place.currency,
            home: home,
            typicalMajor: typicalEuro * place.currency.perEuro,
            usualMerchantCount: random.int(in: 5...20),
            merchantSalt: random.next(),
            posShare: posShare,
            atmShare: atmShare
        )
    }
}
