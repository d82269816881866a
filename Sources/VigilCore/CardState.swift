#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything Vigil remembers about one card: the events that can still fall in a 24 h window, the last transaction's
/// country and location, a folded aggregate of older amounts for the decayed mean, and per UTC day the count and sum
/// of amounts of the days a 30-day window can still reach (catalog 2). See `docs/state.md`.
public struct CardState: Sendable, Equatable {
    /// One accepted transaction, as much of it as the windows need.
    public struct Event: Sendable, Equatable {
        public var timeMs: Int64
        public var amount: Double
        public var merchantHash: UInt64
        public var country: UInt16
    }

    /// Time and place of the last accepted transaction that had coordinates.
    public struct GeoFix: Sendable, Equatable {
        public var timeMs: Int64
        public var lat: Double
        public var lon: Double
    }

    /// Folded older events: `weightedSum = sum(a_i * exp((t_i - refMs)/tau))`, `weight = sum(exp((t_i - refMs)/tau))`.
    public struct Aggregate: Sendable, Equatable {
        public var refMs: Int64
        public var weightedSum: Double
        public var weight: Double
        public var latestMs: Int64
    }

    /// The transactions of one UTC day (`Windows.utcDay`): how many, and the sum of their amounts.
    public struct DayBucket: Sendable, Equatable {
        public var day: Int32
        public var count: UInt32
        public var sum: Double
    }

    /// Most events held individually; beyond this the oldest is folded (windows saturate).
    public static let maxEvents = 10_000
    /// Most day buckets held: the 30 days a window reaches back from the earliest admissible day, plus the at most
    /// 7 days of out-of-orderness and lateness (`VigilConfig.validate`) and today. A bound, not a tuning knob.
    public static let maxDays = 40

    public var events: [Event] = []
    /// Country of the last accepted transaction in partition order, nil if none.
    public var lastCountry: UInt16?
    public var lastGeo: GeoFix?
    public var aggregate: Aggregate?
    /// Per UTC day, ascending; only days a 30-day window of an admissible transaction can reach.
    public var days: [DayBucket] = []

    public init() {}

    public var isEmpty: Bool { events.isEmpty && lastCountry == nil && aggregate == nil && days.isEmpty }
}

extension CardState {
    /// Applies an accepted transaction: it becomes part of `P` for every later transaction of the card.
    /// `partitionMaxEventMs` is the partition's highest accepted event time including this transaction.
    public mutating func apply(_ tx: Transaction, amount: Double, partitionMaxEventMs: Int64, config: FeatureConfig) {
        events.append(Event(
            timeMs: tx.eventTimeMs,
            amount: amount,
            merchantHash: fnv1a64(tx.merchantId),
            country: tx.country.rawValue
        ))
        lastCountry = tx.country.rawValue
        if let location = tx.location {
            lastGeo = GeoFix(timeMs: tx.eventTimeMs, lat: location.lat, lon: location.lon)
        }
        addToDay(tx.eventTimeMs, amount: amount, partitionMaxEventMs: partitionMaxEventMs, config: config)
        foldEvents(atOrBelow: partitionMaxEventMs - config.foldHorizonMs)
        while events.count > CardState.maxEvents {
            var oldest = 0
            for i in events.indices where events[i].timeMs < events[oldest].timeMs { oldest = i }
            fold(events.remove(at: oldest))
        }
    }

    /// Counts the transaction in its UTC day, and forgets the days no admissible transaction's 30-day window reaches:
    /// a transaction is admissible down to `partitionMaxEventMs - outOfOrderness - lateness`, and its windows reach
    /// back 29 days before its own day.
    mutating func addToDay(_ timeMs: Int64, amount: Double, partitionMaxEventMs: Int64, config: FeatureConfig) {
        let day = Windows.utcDay(timeMs)
        var i = days.count
        while i > 0, days[i - 1].day > day { i -= 1 }
        if i > 0, days[i - 1].day == day {
            days[i - 1].count &+= days[i - 1].count == UInt32.max ? 0 : 1
            days[i - 1].sum += amount
        } else {
            days.insert(DayBucket(day: day, count: 1, sum: amount), at: i)
        }
        let earliest = Windows.utcDay(partitionMaxEventMs - config.outOfOrdernessMs - config.latenessMs) - 29
        if let first = days.firstIndex(where: { $0.day >= earliest }), first > 0 {
            days.removeSubrange(..<first)
        }
        if days.count > CardState.maxDays { days.removeFirst(days.count - CardState.maxDays) }
    }

    /// Moves every event with time `<= limitMs` into the aggregate, keeping the others in order.
    mutating func foldEvents(atOrBelow limitMs: Int64) {
        guard let first = events.firstIndex(where: { $0.timeMs <= limitMs }) else { return }
        // Compacts in place, folding in list order (the order decides the aggregate's rounding).
        var kept = first
        for i in first..<events.count {
            let event = events[i]
            if event.timeMs <= limitMs {
                fold(event)
            } else {
                events[kept] = event
                kept += 1
            }
        }
        events.removeSubrange(kept...)
    }

    mutating func fold(_ event: Event) {
        let tau = Double(Windows.meanTimeConstant)
        guard var agg = aggregate else {
            aggregate = Aggregate(refMs: event.timeMs, weightedSum: event.amount, weight: 1, latestMs: event.timeMs)
            return
        }
        var exponent = Double(event.timeMs - agg.refMs) / tau
        if exponent > 50 {
            // Rebase so the stored sums stay far from overflow; the mean is unchanged.
            let scale = exp(-exponent)
            agg.weightedSum *= scale
            agg.weight *= scale
            agg.refMs = event.timeMs
            exponent = 0
        }
        let w = exp(exponent)
        agg.weightedSum += event.amount * w
        agg.weight += w
        agg.latestMs = max(agg.latestMs, event.timeMs)
        aggregate = agg
    }
}
