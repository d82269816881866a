import XCTest
@testable import VigilCore

/// Every feature of the catalog against values computed by hand from the contract's definitions.
final class FeatureTests: XCTestCase {
    func testFirstTransactionOfACard() {
        let f = stateFeatures(tx(minor: 12999, at: t0), history: [])
        XCTAssertEqual(f[.amount], 129.99)
        for feature in [Feature.count1m, .count10m, .count1h, .count24h, .sum1h, .sum24h,
                        .distinctMerchants1h, .distinctCountries24h, .countryChanged, .geoVelocityKmh] {
            XCTAssertEqual(f[feature], 0, feature.name)
        }
        XCTAssertEqual(f[.newMerchant24h], 1)
        XCTAssertEqual(f[.secondsSinceLast], 2_592_000)
        XCTAssertEqual(f[.amountVsAvg], 1)
    }

    func testCurrencyExponents() {
        XCTAssertEqual(stateFeatures(tx(minor: 12999, currency: "JPY", at: t0), history: [])[.amount], 12999)
        XCTAssertEqual(stateFeatures(tx(minor: 12999, currency: "KWD", at: t0), history: [])[.amount], 12.999)
        XCTAssertEqual(stateFeatures(tx(minor: 12999, currency: "EUR", at: t0), history: [])[.amount], 129.99)
        XCTAssertEqual(stateFeatures(tx(minor: 5, currency: "BHD", at: t0), history: [])[.amount], 0.005)
    }

    func testWindowBoundariesAreOpenBelowAndClosedAbove() {
        // (t - W, t]: an event exactly W before t is outside, one ms later is inside; equal time is inside.
        let history = [
            tx("a", minor: 100, at: t0 - minute),
            tx("b", minor: 200, at: t0 - minute + 1),
            tx("c", minor: 400, at: t0),
            tx("d", minor: 800, at: t0 - hour),
            tx("e", minor: 1600, at: t0 - hour + 1),
            tx("f", minor: 3200, at: t0 - day),
            tx("g", minor: 6400, at: t0 - day + 1),
        ]
        let f = stateFeatures(tx("x", at: t0), history: history)
        XCTAssertEqual(f[.count1m], 2)  // b, c
        XCTAssertEqual(f[.count10m], 3)  // a, b, c
        XCTAssertEqual(f[.count1h], 4)  // a, b, c, e
        XCTAssertEqual(f[.count24h], 6)  // all but f
        XCTAssertEqual(f[.sum1h], 1 + 2 + 4 + 16, accuracy: 1e-9)
        XCTAssertEqual(f[.sum24h], 1 + 2 + 4 + 8 + 16 + 64, accuracy: 1e-9)
        XCTAssertEqual(f[.secondsSinceLast], 0)  // c has the same event time
    }

    func testOutOfOrderEventsAfterTAreNotInTheWindows() {
        // P holds an event later than t (arrived earlier in partition order): it is in P but not in P(W).
        let history = [tx("a", at: t0 + 30 * sec), tx("b", at: t0 - 30 * sec)]
        let f = stateFeatures(tx("x", at: t0), history: history)
        XCTAssertEqual(f[.count1m], 1)
        XCTAssertEqual(f[.secondsSinceLast], 30)
    }

    func testSecondsSinceLastIsCappedAt30Days() {
        let f = stateFeatures(tx("x", at: t0), history: [tx("a", at: t0 - 40 * day)])
        XCTAssertEqual(f[.secondsSinceLast], 2_592_000)
        let g = stateFeatures(tx("x", at: t0), history: [tx("a", at: t0 - 90 * sec - 500)])
        XCTAssertEqual(g[.secondsSinceLast], 90.5)
    }

    func testDistinctMerchantsCountriesAndNewMerchant() {
        let history = [
            tx("a", merchant: "m-1", country: "DE", at: t0 - 2 * hour),
            tx("b", merchant: "m-2", country: "FR", at: t0 - 30 * minute),
            tx("c", merchant: "m-2", country: "FR", at: t0 - 20 * minute),
            tx("d", merchant: "m-3", country: "DE", at: t0 - 10 * minute),
        ]
        let f = stateFeatures(tx("x", merchant: "m-1", country: "DE", at: t0), history: history)
        XCTAssertEqual(f[.distinctMerchants1h], 2)  // m-2, m-3
        XCTAssertEqual(f[.distinctCountries24h], 2)  // DE, FR
        XCTAssertEqual(f[.newMerchant24h], 0)  // m-1 two hours ago is within 24 h
        let g = stateFeatures(tx("y", merchant: "m-9", at: t0), history: history)
        XCTAssertEqual(g[.newMerchant24h], 1)
        let old = stateFeatures(tx("z", merchant: "m-1", at: t0 + day), history: [tx("a", merchant: "m-1", at: t0)])
        XCTAssertEqual(old[.newMerchant24h], 1)  // exactly 24 h ago: outside (t - 24h, t]
    }

    func testCountryChangedUsesPartitionOrderNotEventTime() {
        // The last in P is "b" (FR) even though "a" (DE) has the later event time.
        let history = [tx("a", country: "DE", at: t0 + minute), tx("b", country: "FR", at: t0 - minute)]
        XCTAssertEqual(stateFeatures(tx("x", country: "FR", at: t0), history: history)[.countryChanged], 0)
        XCTAssertEqual(stateFeatures(tx("x", country: "DE", at: t0), history: history)[.countryChanged], 1)
        XCTAssertEqual(stateFeatures(tx("x", country: "DE", at: t0), history: [])[.countryChanged], 0)
    }

    func testGeoVelocity() {
        // Berlin -> Paris is 877.46 km by haversine on R = 6371 km.
        let berlin = tx("a", lat: 52.52, lon: 13.405, at: t0 - 2 * hour)
        let paris = tx("x", lat: 48.8566, lon: 2.3522, at: t0)
        let km = haversineKm(lat1: 52.52, lon1: 13.405, lat2: 48.8566, lon2: 2.3522)
        XCTAssertEqual(km, 877.46, accuracy: 0.05)
        XCTAssertEqual(stateFeatures(paris, history: [berlin])[.geoVelocityKmh], km / 2, accuracy: 1e-9)
        // The previous transaction *with* coordinates counts, even if a later one lacks them.
        let noGeo = tx("b", at: t0 - hour)
        XCTAssertEqual(stateFeatures(paris, history: [berlin, noGeo])[.geoVelocityKmh], km / 2, accuracy: 1e-9)
        // Gap below one minute counts as one minute; gaps are absolute.
        let close = tx("c", lat: 52.52, lon: 13.405, at: t0 + 10 * sec)
        XCTAssertEqual(stateFeatures(paris, history: [close])[.geoVelocityKmh], km * 60, accuracy: 1e-6)
        // Missing coordinates on either side: 0.
        XCTAssertEqual(stateFeatures(tx("y", at: t0), history: [berlin])[.geoVelocityKmh], 0)
        XCTAssertEqual(stateFeatures(paris, history: [noGeo])[.geoVelocityKmh], 0)
    }

    func testAmountVsAverage() {
        // Equal event times weigh equally: mean of 10 and 30 is 20.
        let history = [tx("a", minor: 1000, at: t0), tx("b", minor: 3000, at: t0)]
        XCTAssertEqual(stateFeatures(tx("x", minor: 4000, at: t0), history: history)[.amountVsAvg], 2, accuracy: 1e-12)
        // Decayed by exp(-age / 7 days).
        let h2 = [tx("a", minor: 1000, at: t0 - 7 * day), tx("b", minor: 3000, at: t0)]
        let w = exp(-1.0)
        let mean = (10 * w + 30) / (w + 1)
        XCTAssertEqual(stateFeatures(tx("x", minor: 4000, at: t0), history: h2)[.amountVsAvg], 40 / mean, accuracy: 1e-9)
        // Nothing in the last 30 days: 1.
        XCTAssertEqual(stateFeatures(tx("x", minor: 4000, at: t0), history: [tx("a", at: t0 - 31 * day)])[.amountVsAvg], 1)
        // Only later events (out of order): P(30d) is empty.
        XCTAssertEqual(stateFeatures(tx("x", minor: 4000, at: t0), history: [tx("a", at: t0 + sec)])[.amountVsAvg], 1)
    }

    func testChannelAndMcc() {
        XCTAssertEqual(stateFeatures(tx(channel: .ecom, at: t0), history: [])[.cardNotPresent], 1)
        XCTAssertEqual(stateFeatures(tx(channel: .atm, at: t0), history: [])[.cardNotPresent], 0)
        for mcc: UInt16 in [4829, 5967, 6051, 7995] {
            XCTAssertEqual(stateFeatures(tx(mcc: mcc, at: t0), history: [])[.highRiskMcc], 1)
        }
        XCTAssertEqual(stateFeatures(tx(mcc: 5411, at: t0), history: [])[.highRiskMcc], 0)
        let custom = FeatureConfig(highRiskMccs: [5411])
        XCTAssertEqual(stateFeatures(tx(mcc: 5411, at: t0), history: [], config: custom)[.highRiskMcc], 1)
    }

    func testFeatureNamesMatchTheCatalog() {
        XCTAssertEqual(Feature.allCases.map(\.name), [
            "amount", "count_1m", "count_10m", "count_1h", "count_24h", "sum_1h", "sum_24h",
            "distinct_merchants_1h", "distinct_countries_24h", "new_merchant_24h", "seconds_since_last",
            "country_changed", "geo_velocity_kmh", "amount_vs_avg", "card_not_present", "high_risk_mcc",
        ])
        XCTAssertEqual(Feature.allCases.count, Feature.count)
        XCTAssertEqual(Feature(name: "count_1m"), .count1m)
        XCTAssertNil(Feature(name: "count_2m"))
    }
}
