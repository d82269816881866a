/// The four event-time windows of catalog 1 (1 min, 10 min, 1 h, 24 h) of a card with many held events, kept at its
/// latest held event `M`: for each window the first held event inside `(M - W, M]`, the amount sum (in 10^-4 units,
/// `Event.amountE4`) of the 1 h and 24 h windows, and the value counts behind `distinct_merchants_1h`,
/// `distinct_countries_24h` and `new_merchant_24h`. Each event enters and leaves each window once, so keeping it up to
/// date costs a constant per transaction; `CardState.features` moves a window from `M` to a transaction's own time
/// by the events between the two.
///
/// Everything here is a function of the held events (integer sums and counts do not depend on the order events came
/// in), so an index rebuilt from a stored state equals the one that was kept up to date.
struct WindowIndex: Sendable, Equatable {
    struct Window: Sendable, Equatable {
        /// Index of the first held event inside the window.
        var start: Int
        var sumE4: Int128 = 0
    }

    /// Window lengths, in the order of `windows`.
    static let lengths: [Int64] = [Windows.minute, Windows.tenMinutes, Windows.hour, Windows.day]
    static let hour = 2
    static let day = 3

    var windows: [Window]
    /// Events per merchant in the 1 h window.
    var merchantsHour: [UInt64: Int32] = [:]
    /// Events per merchant and per country in the 24 h window.
    var merchantsDay: [UInt64: Int32] = [:]
    var countriesDay: [UInt16: Int32] = [:]

    /// An estimate of the memory the index takes: its windows and its three tables (keys, values and the hash
    /// tables' slack).
    var footprint: Int {
        let table = 64
        return table + windows.capacity * MemoryLayout<Window>.stride
            + 3 * table + 2 * (merchantsHour.capacity + merchantsDay.capacity) * 12 + 2 * countriesDay.capacity * 6
    }

    /// The index of `events` (ascending by time, not empty).
    init(_ events: [CardState.Event]) {
        let latest = events.last!.timeMs
        windows = WindowIndex.lengths.map { Window(start: events.upperBound(latest.minusSaturating($0))) }
        // Sized once: at most one value per event of the window.
        merchantsHour.reserveCapacity(events.count - windows[WindowIndex.hour].start)
        merchantsDay.reserveCapacity(events.count - windows[WindowIndex.day].start)
        for k in windows.indices {
            for i in windows[k].start..<events.count { enter(events[i], k) }
        }
    }

    @inline(__always)
    mutating func enter(_ e: CardState.Event, _ k: Int) {
        switch k {
        case WindowIndex.hour:
            windows[k].sumE4 += Int128(e.amountE4)
            merchantsHour[e.merchantHash, default: 0] += 1
        case WindowIndex.day:
            windows[k].sumE4 += Int128(e.amountE4)
            merchantsDay[e.merchantHash, default: 0] += 1
            countriesDay[e.country, default: 0] += 1
        default:
            break
        }
    }

    @inline(__always)
    mutating func leave(_ e: CardState.Event, _ k: Int) {
        switch k {
        case WindowIndex.hour:
            windows[k].sumE4 -= Int128(e.amountE4)
            WindowIndex.decrement(&merchantsHour, e.merchantHash)
        case WindowIndex.day:
            windows[k].sumE4 -= Int128(e.amountE4)
            WindowIndex.decrement(&merchantsDay, e.merchantHash)
            WindowIndex.decrement(&countriesDay, e.country)
        default:
            break
        }
    }

    @inline(__always)
    static func decrement<K: Hashable>(_ counts: inout [K: Int32], _ key: K) {
        let index = counts.index(forKey: key)!
        if counts.values[index] == 1 { counts.remove(at: index) } else { counts.values[index] -= 1 }
    }

    /// `events[position]` was just inserted; `latestBefore` was the latest held time before it.
    mutating func inserted(at position: Int, latestBefore: Int64?, in events: [CardState.Event]) {
        let event = events[position]
        let before = latestBefore ?? event.timeMs
        for k in windows.indices {
            let start = windows[k].start
            // Held events before `start` are outside the window at `before`: one inserted before them is too; one
            // inserted at `start` may be inside; one inserted after `start` is.
            if position < start || (position == start && event.timeMs <= before.minusSaturating(WindowIndex.lengths[k])) {
                windows[k].start += 1
            } else {
                enter(event, k)
            }
        }
        // A later latest event moves every window on.
        let latest = events.last!.timeMs
        guard latest > before else { return }
        for k in windows.indices {
            let limit = latest.minusSaturating(WindowIndex.lengths[k])
            var start = windows[k].start
            while start < events.count, events[start].timeMs <= limit {
                leave(events[start], k)
                start += 1
            }
            windows[k].start = start
        }
    }

    /// The first `count` events of `events` are about to be removed (folded).
    mutating func removingFront(_ count: Int, of events: [CardState.Event]) {
        for k in windows.indices {
            let start = windows[k].start
            if start < count {
                for i in start..<count { leave(events[i], k) }
                windows[k].start = 0
            } else {
                windows[k].start = start - count
            }
        }
    }
}

/// Moving one indexed window from the latest held event `M` to a transaction's window `[low, high)` of the held
/// events: the window at `M` is `[start, count)`, so the transaction's is it plus the signed range `low -> start`
/// (events between `t - W` and `M - W`: added if `low < start`, taken off if `low > start`) less `[high, count)`
/// (events after `t`). `moved` says whether that visits fewer events than scanning `[low, high)` itself.
struct WindowMove {
    let window: WindowIndex.Window
    let low: Int
    let high: Int
    let count: Int

    init(index: WindowIndex, k: Int, low: Int, high: Int, count: Int) {
        window = index.windows[k]
        self.low = low
        self.high = high
        self.count = count
    }

    var moved: Bool { abs(window.start - low) + (count - high) < high - low }

    /// Calls `body(i, +1 or -1)` for each event the move adds or takes off.
    @inline(__always)
    func forEachChange(_ body: (Int, Int32) -> Void) {
        if low < window.start {
            for i in low..<window.start { body(i, 1) }
        } else {
            for i in window.start..<low { body(i, -1) }
        }
        for i in high..<count { body(i, -1) }
    }

    func movedSum(_ events: [CardState.Event]) -> Int128 {
        var sum = window.sumE4
        forEachChange { i, sign in sum += sign > 0 ? Int128(events[i].amountE4) : -Int128(events[i].amountE4) }
        return sum
    }

    func movedCount(of merchant: UInt64, _ counts: [UInt64: Int32], _ events: [CardState.Event]) -> Int {
        var n = Int(counts[merchant] ?? 0)
        forEachChange { i, sign in if events[i].merchantHash == merchant { n += Int(sign) } }
        return n
    }

    func movedDistinct<K: Hashable>(
        _ counts: [K: Int32], _ events: [CardState.Event], _ key: KeyPath<CardState.Event, K>
    ) -> Int {
        var changes: [K: Int32] = [:]
        changes.reserveCapacity(abs(window.start - low) + (count - high))
        forEachChange { i, sign in changes[events[i][keyPath: key], default: 0] += sign }
        var distinct = counts.count
        for (value, change) in changes where change != 0 {
            let before = counts[value] ?? 0
            if before > 0, before + change <= 0 { distinct -= 1 }
            if before <= 0, before + change > 0 { distinct += 1 }
        }
        return distinct
    }
}
