#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CardState {
    /// The catalog's features for `tx`, whose `P` is this state. Pure: the state is not changed.
    public func features(for tx: Transaction, amount: Double, config: FeatureConfig) -> FeatureVector {
        let t = tx.eventTimeMs
        var f = FeatureVector()
        f[.amount] = amount

        var count1m = 0.0, count10m = 0.0, count1h = 0.0, count24h = 0.0
        var sum1h = 0.0, sum24h = 0.0
        var latestAtOrBefore = Int64.min
        var any30d = false
        var merchantSeen24h = false
        let merchant = fnv1a64(tx.merchantId)
        let tau = Double(Windows.meanTimeConstant)
        var meanNumerator = 0.0, meanDenominator = 0.0
        var distinctMerchants1h = 0.0, distinctCountries24h = 0.0

        // Merchants of the last hour and countries of the last day are gathered into scratch space (on the stack
        // for ordinary cards) and counted by `distinctCount`: linear for ordinary cards, O(n log n) at the event cap.
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(1, events.count)) { merchants in
            withUnsafeTemporaryAllocation(of: UInt16.self, capacity: max(1, events.count)) { countries in
                var merchantCount = 0, countryCount = 0
                for e in events {
                    guard e.timeMs <= t else { continue }
                    let age = t - e.timeMs
                    if e.timeMs > latestAtOrBefore { latestAtOrBefore = e.timeMs }
                    let w = exp(-Double(age) / tau)
                    meanNumerator += e.amount * w
                    meanDenominator += w
                    if age < Windows.thirtyDays { any30d = true }
                    guard age < Windows.day else { continue }
                    count24h += 1
                    sum24h += e.amount
                    if e.merchantHash == merchant { merchantSeen24h = true }
                    countries[countryCount] = e.country
                    countryCount += 1
                    guard age < Windows.hour else { continue }
                    count1h += 1
                    sum1h += e.amount
                    merchants[merchantCount] = e.merchantHash
                    merchantCount += 1
                    guard age < Windows.tenMinutes else { continue }
                    count10m += 1
                    guard age < Windows.minute else { continue }
                    count1m += 1
                }
                distinctMerchants1h = Double(distinctCount(UnsafeMutableBufferPointer(rebasing: merchants[..<merchantCount])))
                distinctCountries24h = Double(distinctCount(UnsafeMutableBufferPointer(rebasing: countries[..<countryCount])))
            }
        }
        if let agg = aggregate {
            // Every folded event is older than any admissible transaction (see docs/state.md).
            if agg.latestMs > latestAtOrBefore { latestAtOrBefore = agg.latestMs }
            if t - agg.latestMs < Windows.thirtyDays { any30d = true }
            let scale = exp(Double(agg.refMs - t) / tau)
            meanNumerator += agg.weightedSum * scale
            meanDenominator += agg.weight * scale
        }

        f[.count1m] = count1m
        f[.count10m] = count10m
        f[.count1h] = count1h
        f[.count24h] = count24h
        f[.sum1h] = sum1h
        f[.sum24h] = sum24h
        f[.distinctMerchants1h] = distinctMerchants1h
        f[.distinctCountries24h] = distinctCountries24h
        f[.newMerchant24h] = merchantSeen24h ? 0 : 1
        if latestAtOrBefore == Int64.min {
            f[.secondsSinceLast] = Windows.secondsSinceLastCap
        } else {
            f[.secondsSinceLast] = min(Windows.secondsSinceLastCap, Double(t - latestAtOrBefore) / 1000)
        }
        if let last = lastCountry, last != tx.country.rawValue { f[.countryChanged] = 1 }
        if let here = tx.location, let previous = lastGeo {
            let km = haversineKm(lat1: previous.lat, lon1: previous.lon, lat2: here.lat, lon2: here.lon)
            let hours = max(Double(abs(t - previous.timeMs)), Double(Windows.minute)) / 3_600_000
            f[.geoVelocityKmh] = km / hours
        }
        if any30d, meanDenominator > 0 {
            let mean = meanNumerator / meanDenominator
            f[.amountVsAvg] = mean > 0 ? amount / mean : 1
        } else {
            f[.amountVsAvg] = 1
        }
        f[.cardNotPresent] = tx.channel == .ecom ? 1 : 0
        f[.highRiskMcc] = config.highRiskMccs.contains(tx.mcc) ? 1 : 0
        dayWindows(at: t, into: &f)
        return f
    }

    /// Catalog 2's card windows: the transactions of `P` whose UTC day is one of the 7 (30) UTC days ending with the
    /// day of `t`, and their mean amount (0 when there are none).
    func dayWindows(at t: Int64, into f: inout FeatureVector) {
        let today = Windows.utcDay(t)
        var count7 = 0.0, count30 = 0.0, sum7 = 0.0, sum30 = 0.0
        for bucket in days where bucket.day <= today && bucket.day > today - 30 {
            count30 += Double(bucket.count)
            sum30 += bucket.sum
            guard bucket.day > today - 7 else { continue }
            count7 += Double(bucket.count)
            sum7 += bucket.sum
        }
        f[.count7d] = count7
        f[.count30d] = count30
        f[.meanAmount7d] = count7 > 0 ? sum7 / count7 : 0
        f[.meanAmount30d] = count30 > 0 ? sum30 / count30 : 0
    }
}

/// Number of distinct values; may reorder the buffer.
///
/// Most cards have one country a day and a few merchants an hour: the values are first gathered distinct at the front
/// of the buffer while there are few of them, then counted in a small hash set on the stack, and only a window of
/// more than `distinctHashLimit` values is sorted.
func distinctCount<T: FixedWidthInteger & UnsignedInteger>(_ buffer: UnsafeMutableBufferPointer<T>) -> Int {
    guard buffer.count > 1 else { return buffer.count }
    // buffer[..<distinct] holds the distinct values of buffer[..<i]; overwriting a repeated value keeps the set.
    var distinct = 1
    var i = 1
    scan: while i < buffer.count {
        let value = buffer[i]
        for j in 0..<distinct where buffer[j] == value {
            i += 1
            continue scan
        }
        guard distinct < distinctScanLimit else { break }
        buffer[distinct] = value
        distinct += 1
        i += 1
    }
    if i == buffer.count { return distinct }
    if buffer.count <= distinctHashLimit { return distinctCountHashing(UnsafeBufferPointer(buffer)) }
    var values = buffer
    values.sort()
    var sortedDistinct = 1
    for k in 1..<values.count where values[k] != values[k - 1] { sortedDistinct += 1 }
    return sortedDistinct
}

/// Distinct values gathered by scanning before switching to a hash set.
private let distinctScanLimit = 8
/// Largest window counted in the hash set (its table, twice as many slots, stays within a stack allocation).
private let distinctHashLimit = 64

/// Number of distinct values, with an open-addressing set of at most `2 * distinctHashLimit` slots.
private func distinctCountHashing<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>) -> Int {
    var bits = 1
    while 1 << bits < 2 * values.count { bits += 1 }
    let mask = (1 << bits) - 1
    return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 1 << bits) { table in
        // Slot value 0 means empty; the value 0 itself is tracked apart.
        table.initialize(repeating: 0)
        var sawZero = false
        var distinct = 0
        for value in values {
            let key = UInt64(truncatingIfNeeded: value)
            if key == 0 {
                if !sawZero { sawZero = true; distinct += 1 }
                continue
            }
            var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(64 - bits))
            while true {
                let held = table[slot]
                if held == key { break }
                if held == 0 {
                    table[slot] = key
                    distinct += 1
                    break
                }
                slot = (slot + 1) & mask
            }
        }
        return distinct
    }
}
