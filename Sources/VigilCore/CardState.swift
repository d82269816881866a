#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything Vigil remembers about one card: the events that can still fall in a 24 h window, the last transaction's
/// country and location, and a folded aggregate of older amounts for the decayed mean. See `docs/state.md`.
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

    /// Most events held individually; beyond this the oldest is folded (windows saturate).
    public static let maxEvents = 10_000

    public var events: [Event] = []
    /// Country of the last accepted transaction in partition order, nil if none.
    public var lastCountry: UInt16?
    public var lastGeo: GeoFix?
    public var aggregate: Aggregate?

    public init() {}

    public var isEmpty: Bool { events.isEmpty && lastCountry == nil && aggregate == nil }
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
        foldEvents(atOrBelow: partitionMaxEventMs - config.foldHorizonMs)
        while events.count > CardState.maxEvents {
            var oldest = 0
            for i in events.indices where events[i].timeMs < events[oldest].timeMs { oldest = i }
            fold(events.remove(at: oldest))
        }
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
