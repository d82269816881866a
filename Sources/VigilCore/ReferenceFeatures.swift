#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The catalog's definitions computed literally from the full history `P`, with no state and no shortcuts.
/// Slow (it scans all of `P` per feature); it exists to check `CardState`, the incremental implementation the service
/// uses, in tests and in `vigil` tools. `amount_vs_avg` follows the decayed-mean definition in `docs/state.md`.
public enum ReferenceFeatures {
    /// Features of `e` given `history`: the card's accepted transactions before `e`, in partition order.
    /// `merchant` is what the served merchant-risk snapshot gives `e`'s merchant (catalog 2).
    public static func compute(
        _ e: Transaction, history: [Transaction], config: FeatureConfig,
        merchant: MerchantRiskFeatures = .noSnapshot
    ) -> FeatureVector {
        var f = FeatureVector()
        let t = e.eventTimeMs
        f[.amount] = e.amount
        func window(_ w: Int64) -> [Transaction] { history.filter { $0.eventTimeMs <= t && $0.eventTimeMs > t - w } }
        f[.count1m] = Double(window(Windows.minute).count)
        f[.count10m] = Double(window(Windows.tenMinutes).count)
        f[.count1h] = Double(window(Windows.hour).count)
        f[.count24h] = Double(window(Windows.day).count)
        f[.sum1h] = window(Windows.hour).reduce(0) { $0 + $1.amount }
        f[.sum24h] = window(Windows.day).reduce(0) { $0 + $1.amount }
        f[.distinctMerchants1h] = Double(Set(window(Windows.hour).map(\.merchantId)).count)
        f[.distinctCountries24h] = Double(Set(window(Windows.day).map(\.country)).count)
        f[.newMerchant24h] = window(Windows.day).contains { $0.merchantId == e.merchantId } ? 0 : 1
        if let latest = history.filter({ $0.eventTimeMs <= t }).map(\.eventTimeMs).max() {
            f[.secondsSinceLast] = min(Windows.secondsSinceLastCap, Double(t - latest) / 1000)
        } else {
            f[.secondsSinceLast] = Windows.secondsSinceLastCap
        }
        if let previous = history.last, previous.country != e.country { f[.countryChanged] = 1 }
        if let here = e.location, let previous = history.last(where: { $0.location != nil }) {
            let there = previous.location!
            let km = haversineKm(lat1: there.lat, lon1: there.lon, lat2: here.lat, lon2: here.lon)
            let hours = max(Double(abs(t - previous.eventTimeMs)), Double(Windows.minute)) / 3_600_000
            f[.geoVelocityKmh] = km / hours
        }
        let tau = Double(Windows.meanTimeConstant)
        let past = history.filter { $0.eventTimeMs <= t }
        if window(Windows.thirtyDays).isEmpty {
            f[.amountVsAvg] = 1
        } else {
            var numerator = 0.0, denominator = 0.0
            for p in past {
                let w = exp(-Double(t - p.eventTimeMs) / tau)
                numerator += p.amount * w
                denominator += w
            }
            f[.amountVsAvg] = e.amount / (numerator / denominator)
        }
        f[.cardNotPresent] = e.channel == .ecom ? 1 : 0
        f[.highRiskMcc] = config.highRiskMccs.contains(e.mcc) ? 1 : 0
        // Catalog 2: UTC-day windows, including transactions of P later than t on t's own day.
        let today = Windows.utcDay(t)
        func days(_ n: Int32) -> [Transaction] {
            history.filter { Windows.utcDay($0.eventTimeMs) <= today && Windows.utcDay($0.eventTimeMs) > today - n }
        }
        let week = days(7), month = days(30)
        f[.count7d] = Double(week.count)
        f[.count30d] = Double(month.count)
        f[.meanAmount7d] = week.isEmpty ? 0 : week.reduce(0) { $0 + $1.amount } / Double(week.count)
        f[.meanAmount30d] = month.isEmpty ? 0 : month.reduce(0) { $0 + $1.amount } / Double(month.count)
        f.setMerchant(merchant)
        return f
    }
}
