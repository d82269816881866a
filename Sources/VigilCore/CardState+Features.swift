#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension CardState {
    /// The catalog's features for `tx`, whose `P` is this state. Pure: the state is not changed.
    ///
    /// The window `(t - W, t]` is the held events `[low, high)` found by binary search. A state without a window
    /// index scans them; one with an index (more than `indexThreshold` events) starts from the window kept at its
    /// latest event `M` and moves it to `t` by the events between the two ends (`WindowMove`): the events after `t`
    /// (out of order) and those between `t - W` and `M - W`. Each sum, count and set is taken whichever way visits
    /// fewer events; both give the same value, so only the cost depends on the card's activity, and it is bounded by
    /// the events within the out-of-orderness of `t`, not by the card's window.
    public func features(for tx: Transaction, amount: Double, config: FeatureConfig) -> FeatureVector {
        let t = tx.eventTimeMs
        var f = FeatureVector()
        f[.amount] = amount
        let merchant = fnv1a64(tx.merchantId)
        let high = events.upperBound(t)

        var latestAtOrBefore = high > 0 ? events[high - 1].timeMs : Int64.min
        // Every folded event is older than any admissible transaction (see docs/state.md).
        if let agg = aggregate, agg.latestMs > latestAtOrBefore { latestAtOrBefore = agg.latestMs }

        var lows = (0, 0, 0, 0)
        lows.0 = events.upperBound(t - Windows.minute, end: high)
        lows.1 = events.upperBound(t - Windows.tenMinutes, end: high)
        lows.2 = events.upperBound(t - Windows.hour, end: high)
        lows.3 = events.upperBound(t - Windows.day, end: high)
        f[.count1m] = Double(high - lows.0)
        f[.count10m] = Double(high - lows.1)
        f[.count1h] = Double(high - lows.2)
        f[.count24h] = Double(high - lows.3)

        if let index {
            let hour = WindowMove(index: index, k: WindowIndex.hour, low: lows.2, high: high, count: events.count)
            let day = WindowMove(index: index, k: WindowIndex.day, low: lows.3, high: high, count: events.count)
            f[.sum1h] = CardState.major(hour.moved ? hour.movedSum(events) : directSum(lows.2, high))
            f[.sum24h] = CardState.major(day.moved ? day.movedSum(events) : directSum(lows.3, high))
            f[.distinctMerchants1h] = Double(hour.moved
                ? hour.movedDistinct(index.merchantsHour, events, \.merchantHash)
                : directDistinctMerchants(lows.2, high))
            f[.distinctCountries24h] = Double(day.moved
                ? day.movedDistinct(index.countriesDay, events, \.country)
                : directDistinctCountries(lows.3, high))
            let seen = day.moved
                ? day.movedCount(of: merchant, index.merchantsDay, events)
                : directCount(of: merchant, lows.3, high)
            f[.newMerchant24h] = seen > 0 ? 0 : 1
        } else {
            f[.sum1h] = CardState.major(directSum(lows.2, high))
            f[.sum24h] = CardState.major(directSum(lows.3, high))
            f[.distinctMerchants1h] = Double(directDistinctMerchants(lows.2, high))
            f[.distinctCountries24h] = Double(directDistinctCountries(lows.3, high))
            f[.newMerchant24h] = directCount(of: merchant, lows.3, high) > 0 ? 0 : 1
        }

        if latestAtOrBefore == Int64.min {
            f[.secondsSinceLast] = Windows.secondsSinceLastCap
        } else {
            f[.secondsSinceLast] = min(Windows.secondsSinceLastCap, Double(t.minusSaturating(latestAtOrBefore)) / 1000)
        }
        if let last = lastCountry, last != tx.country.rawValue { f[.countryChanged] = 1 }
        if let here = tx.location, let previous = lastGeo {
            let km = haversineKm(lat1: previous.lat, lon1: previous.lon, lat2: here.lat, lon2: here.lon)
            let hours = max(Double(t.minusSaturating(previous.timeMs).magnitude), Double(Windows.minute)) / 3_600_000
            f[.geoVelocityKmh] = km / hours
        }
        let any30d = latestAtOrBefore != Int64.min && t.minusSaturating(latestAtOrBefore) < Windows.thirtyDays
        if any30d, let mean = decayedMean(atOrBefore: high), mean > 0 {
            f[.amountVsAvg] = amount / mean
        } else {
            f[.amountVsAvg] = 1
        }
        f[.cardNotPresent] = tx.channel == .ecom ? 1 : 0
        f[.highRiskMcc] = config.highRiskMccs.contains(tx.mcc) ? 1 : 0
        dayWindows(at: t, into: &f)
        return f
    }

    /// The time-decayed mean amount of the folded events and the first `high` held events (those at or before the
    /// transaction's time): the folds of those events, oldest first, or, with a decayed total, that total less the
    /// held events after them when they are fewer (and the difference is not lost to rounding).
    func decayedMean(atOrBefore high: Int) -> Double? {
        if let total = decayed, events.count - high <= high {
            if high == events.count { return total.weightedSum / total.weight }
            let tau = Double(Windows.meanTimeConstant)
            var weightedSum = total.weightedSum, weight = total.weight
            for e in events[high...] {
                let w = exp(Double(e.timeMs &- total.refMs) / tau)
                weightedSum -= e.amount * w
                weight -= w
            }
            if weight > total.weight * 1e-9 { return weightedSum / weight }
        }
        guard let chain = chainedDecayed(upTo: high), chain.weight > 0 else { return nil }
        return chain.weightedSum / chain.weight
    }

    /// A sum in 10^-4 units, in major units.
    @inline(__always)
    static func major(_ sumE4: Int128) -> Double { Double(sumE4) / 10_000 }

    func directSum(_ low: Int, _ high: Int) -> Int128 {
        var sum: Int128 = 0
        for i in low..<high { sum += Int128(events[i].amountE4) }
        return sum
    }

    func directCount(of merchant: UInt64, _ low: Int, _ high: Int) -> Int {
        var n = 0
        for i in low..<high where events[i].merchantHash == merchant { n += 1 }
        return n
    }

    func directDistinctMerchants(_ low: Int, _ high: Int) -> Int {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: max(1, high - low)) { buffer in
            for i in low..<high { buffer[i - low] = events[i].merchantHash }
            return distinctCount(UnsafeMutableBufferPointer(rebasing: buffer[..<(high - low)]))
        }
    }

    func directDistinctCountries(_ low: Int, _ high: Int) -> Int {
        withUnsafeTemporaryAllocation(of: UInt16.self, capacity: max(1, high - low)) { buffer in
            for i in low..<high { buffer[i - low] = events[i].country }
            return distinctCount(UnsafeMutableBufferPointer(rebasing: buffer[..<(high - low)]))
        }
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
