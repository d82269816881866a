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
            "count_7d", "count_30d", "mean_amount_7d", "mean_amount_30d",
            "merchant_tx_1d", "merchant_tx_7d", "merchant_tx_30d",
            "merchant_fraud_rate_1d", "merchant_fraud_rate_7d", "merchant_fraud_rate_30d",
        ])
        XCTAssertEqual(FeatureCatalog.v1.features.map(\.name), Array(Feature.allCases.prefix(16).map(\.name)))
        XCTAssertEqual(FeatureCatalog.v2.features.count, 26)
        XCTAssertEqual(Feature.allCases.count, Feature.count)
        XCTAssertEqual(Feature(name: "count_1m"), .count1m)
        XCTAssertNil(Feature(name: "count_2m"))
    }

    // MARK: catalog 2

    /// The UTC-day windows by hand: the 7 (30) UTC days ending with t's day, whole days, including a transaction of P
    /// later than t on t's own day, excluding one on a later day.
    func testDayWindowsFollowUTCDays() {
        let midnight = (t0 / day) * day  // 00:00 UTC of t0's day
        let t = midnight + 10 * hour
        let history = [
            tx("a", minor: 100, at: midnight - 29 * day),  // first day of the 30-day window
            tx("b", minor: 200, at: midnight - 29 * day - 1),  // the day before it: outside
            tx("c", minor: 400, at: midnight - 6 * day),  // first day of the 7-day window
            tx("d", minor: 800, at: midnight - 6 * day - 1),  // in the 30-day window only
            tx("e", minor: 1600, at: midnight + 20 * hour),  // later than t, same UTC day: inside
            tx("f", minor: 3200, at: midnight + day + 1),  // the next day: outside
        ]
        for f in [stateFeatures(tx("x", at: t), history: history), ReferenceFeatures.compute(tx("x", at: t), history: history, config: FeatureConfig())] {
            XCTAssertEqual(f[.count7d], 2)  // c, e
            XCTAssertEqual(f[.count30d], 4)  // a, c, d, e
            XCTAssertEqual(f[.meanAmount7d], (4 + 16) / 2, accuracy: 1e-12)
            XCTAssertEqual(f[.meanAmount30d], (1 + 4 + 8 + 16) / 4, accuracy: 1e-12)
        }
        let empty = stateFeatures(tx("x", at: t), history: [])
        XCTAssertEqual(empty[.count7d], 0)
        XCTAssertEqual(empty[.meanAmount7d], 0)
        XCTAssertEqual(empty[.meanAmount30d], 0)
    }

    /// Day buckets stay bounded: only days a 30-day window of an admissible transaction can reach are kept.
    func testDayBucketsAreBounded() {
        let config = FeatureConfig()
        var state = CardState()
        for i in 0..<200 {
            let t = t0 + Int64(i) * day
            state.apply(tx("t\(i)", at: t), amount: 1, partitionMaxEventMs: t, config: config)
        }
        XCTAssertLessThanOrEqual(state.days.count, 31)
        XCTAssertEqual(state.days.last?.day, Windows.utcDay(t0 + 199 * day))
        let f = state.features(for: tx("x", at: t0 + 199 * day + 1), amount: 1, config: config)
        XCTAssertEqual(f[.count30d], 30)
        XCTAssertEqual(f[.count7d], 7)
        XCTAssertLessThan(state.encodedSize, 1024)
    }

    func testUTCDayRoundsDown() {
        XCTAssertEqual(Windows.utcDay(0), 0)
        XCTAssertEqual(Windows.utcDay(day - 1), 0)
        XCTAssertEqual(Windows.utcDay(day), 1)
        XCTAssertEqual(Windows.utcDay(-1), -1)
        XCTAssertEqual(Windows.utcDay(-day), -1)
        XCTAssertEqual(Windows.utcDay(-day - 1), -2)
    }

    /// The merchant features are exactly `MerchantRiskFeatures`' and reach the vector's merchant slots.
    func testMerchantFeaturesFillTheirSlots() {
        let totals = MerchantRiskCounts(transactions1d: 1000, transactions7d: 7000, transactions30d: 30000,
                                        frauds1d: 10, frauds7d: 70, frauds30d: 600)
        let m = MerchantRiskFeatures(
            merchant: MerchantRiskCounts(transactions1d: 1, transactions7d: 5, transactions30d: 200, frauds1d: 1,
                                         frauds7d: 1, frauds30d: 100), totals: totals)
        XCTAssertEqual(m.fraudRate1d, (1 + 10 * 0.01) / 11, accuracy: 1e-15)
        XCTAssertEqual(m.fraudRate30d, (100 + 10 * 0.02) / 210, accuracy: 1e-15)
        let f = ReferenceFeatures.compute(tx("x", at: t0), history: [], config: FeatureConfig(), merchant: m)
        XCTAssertEqual(f[.merchantTx1d], 1)
        XCTAssertEqual(f[.merchantTx7d], 5)
        XCTAssertEqual(f[.merchantTx30d], 200)
        XCTAssertEqual(f[.merchantFraudRate1d], m.fraudRate1d)
        XCTAssertEqual(f[.merchantFraudRate7d], m.fraudRate7d)
        XCTAssertEqual(f[.merchantFraudRate30d], m.fraudRate30d)
        let missing = MerchantRiskFeatures(merchant: .zero, totals: totals)
        XCTAssertEqual(missing.fraudRate7d, 0.01, accuracy: 1e-15, "a merchant missing from the snapshot gets the prior")
    }

    func testCutTimeOfAVersion() {
        XCTAssertEqual(MerchantRiskVersion.cutTimeMs(of: "1970-01-01T00-00-00Z-0123456789ab"), 0)
        XCTAssertEqual(MerchantRiskVersion.cutTimeMs(of: "2026-11-24T00-00-00Z-0123456789ab"), 1_795_478_400_000)
        XCTAssertEqual(MerchantRiskVersion.cutTimeMs(of: "2024-02-29T23-59-59Z"), 1_709_251_199_000)
        XCTAssertNil(MerchantRiskVersion.cutTimeMs(of: "garbage"))
        XCTAssertNil(MerchantRiskVersion.cutTimeMs(of: "2026-13-24T00-00-00Z-x"))
    }
}
