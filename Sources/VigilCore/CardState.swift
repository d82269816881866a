#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything Vigil remembers about one card: the events that can still fall in a 24 h window (ascending by event
/// time), the last transaction's country and location, a folded aggregate of older amounts for the decayed mean, and
/// per UTC day the count and sum of amounts of the days a 30-day window can still reach (catalog 2). See
/// `docs/state.md`.
///
/// A card with more than `indexThreshold` held events also keeps a `WindowIndex` (each window's first event, its
/// amount sum and value counts, maintained as events enter and leave) and the decayed total over every event it has
/// applied (`decayed`), so that its features cost the same whatever its activity (`CardState+Features.swift`).
/// Everything a feature reads is either stored (and so in the blob) or a function of what is stored: a state read
/// back from Redis gives the same features, to the bit, as the one that was written.
public struct CardState: Sendable {
    /// One accepted transaction, as much of it as the windows need.
    public struct Event: Sendable, Equatable {
        public var timeMs: Int64
        public var amount: Double
        public var merchantHash: UInt64
        public var country: UInt16

        public init(timeMs: Int64, amount: Double, merchantHash: UInt64, country: UInt16) {
            self.timeMs = timeMs
            self.amount = amount
            self.merchantHash = merchantHash
            self.country = country
        }

        /// The amount in units of 10^-4 (no currency has more than four minor-unit digits), so that window sums are
        /// integer sums: exact, and the same whatever order events entered and left the window in. Exact for every
        /// amount below about 2 * 10^11 major units; above, a deterministic rounding of it.
        /// A stored amount out of range (only an altered blob holds one) is clamped, NaN counts 0: never a trap.
        @inline(__always)
        public var amountE4: Int64 {
            let scaled = (amount * 10_000).rounded()
            if scaled.magnitude < 9.2e18 { return Int64(scaled) }
            return scaled.isNaN ? 0 : scaled > 0 ? Int64.max : Int64.min
        }
    }

    /// Time and place of the last accepted transaction that had coordinates.
    public struct GeoFix: Sendable, Equatable {
        public var timeMs: Int64
        public var lat: Double
        public var lon: Double
    }

    /// Folded events: `weightedSum = sum(a_i * exp((t_i - refMs)/tau))`, `weight = sum(exp((t_i - refMs)/tau))`.
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

    /// Events held individually before the oldest are folded (counts and sums above it may saturate, as the contract
    /// allows). The state holds up to `maxEvents + capSlack` and then folds down to `maxEvents`: one move of the
    /// array per `capSlack` transactions instead of one per transaction.
    public static let maxEvents = 10_000
    public static let capSlack = 256
    /// Most events a state holds.
    public static let maxHeldEvents = maxEvents + capSlack
    /// Most day buckets held: the 30 days a window reaches back from the earliest admissible day, plus the at most
    /// 7 days of out-of-orderness and lateness (`VigilConfig.validate`) and today. A bound, not a tuning knob.
    public static let maxDays = 40
    /// A state with more held events than this keeps a `WindowIndex` and a decayed total.
    public static let indexThreshold = 32

    /// Held events, ascending by event time; events with the same time in the order they were applied.
    public var events: [Event] = []
    /// Country of the last accepted transaction in partition order, nil if none.
    public var lastCountry: UInt16?
    public var lastGeo: GeoFix?
    /// The folded events (all older than every held event).
    public var aggregate: Aggregate?
    /// Per UTC day, ascending; only days a 30-day window of an admissible transaction can reach.
    public var days: [DayBucket] = []
    /// With more than `indexThreshold` held events: the decayed sums over every applied event, folded or held, each
    /// added once as it was applied (its `latestMs` unused). Stored in the blob, since its rounding depends on the
    /// order events came in.
    public var decayed: Aggregate?
    /// With more than `indexThreshold` held events: the windows at the latest held event. Derived from the stored
    /// fields, never stored.
    var index: WindowIndex?
    /// With more than `indexThreshold` held events, the state is stored as a header and a log of its events
    /// (`CardState+Log.swift`): how many events the log holds and how many of them are folded.
    public var log: EventLog?
    /// What the store must do to the log for the changes since `beginBatch()` (not stored).
    public internal(set) var logChange = LogChange()

    public init() {}

    /// An estimate of the memory of the window index, 0 without one.
    public var indexFootprint: Int { index?.footprint ?? 0 }

    public var isEmpty: Bool { events.isEmpty && lastCountry == nil && aggregate == nil && days.isEmpty }
}

extension CardState: Equatable {
    /// Equal fields that features depend on (the window index is a function of them; the log's counts say how the
    /// state is laid out in Redis, not what it is).
    public static func == (a: CardState, b: CardState) -> Bool {
        a.events == b.events && a.lastCountry == b.lastCountry && a.lastGeo == b.lastGeo && a.aggregate == b.aggregate
            && a.days == b.days && a.decayed?.refMs == b.decayed?.refMs
            && a.decayed?.weightedSum == b.decayed?.weightedSum && a.decayed?.weight == b.decayed?.weight
    }
}

extension CardState {
    /// Applies an accepted transaction: it becomes part of `P` for every later transaction of the card.
    /// `partitionMaxEventMs` is the partition's highest accepted event time including this transaction.
    public mutating func apply(_ tx: Transaction, amount: Double, partitionMaxEventMs: Int64, config: FeatureConfig) {
        let event = Event(timeMs: tx.eventTimeMs, amount: amount, merchantHash: fnv1a64(tx.merchantId),
                          country: tx.country.rawValue)
        if log != nil { logApplied(event) }
        if let agg = aggregate, event.timeMs < agg.latestMs {
            // Older than an event the cap folded: folded too, so that folded events stay older than held ones
            // (only a card at the cap gets here; its windows saturate).
            if decayed != nil { CardState.foldInto(&decayed, event) }
            CardState.foldInto(&aggregate, event)
            log?.folded += 1
        } else {
            insert(event)
        }
        lastCountry = tx.country.rawValue
        if let location = tx.location {
            lastGeo = GeoFix(timeMs: tx.eventTimeMs, lat: location.lat, lon: location.lon)
        }
        addToDay(tx.eventTimeMs, amount: amount, partitionMaxEventMs: partitionMaxEventMs, config: config)
        foldEvents(atOrBelow: partitionMaxEventMs - config.foldHorizonMs)
        if events.count > CardState.maxHeldEvents { foldOldest(events.count - CardState.maxEvents) }
        updateIndexPresence()
        updateLogLayout()
    }

    /// Inserts `event` after every held event at or before its time (usually at the end).
    mutating func insert(_ event: Event) {
        let position = events.upperBound(event.timeMs)
        let latestBefore = events.last?.timeMs
        events.insert(event, at: position)
        if decayed != nil { CardState.foldInto(&decayed, event) }
        index?.inserted(at: position, latestBefore: latestBefore, in: events)
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

    /// Folds the held events with time `<= limitMs` (a prefix: events are in time order). A small state folds them
    /// at once; a large one waits until `foldBatch` of them are due, so the array moves once per batch of events.
    /// Waiting changes no feature: every window ends after `limitMs`, and a held event enters the decayed mean
    /// exactly as its fold would (`features`).
    mutating func foldEvents(atOrBelow limitMs: Int64) {
        guard let first = events.first, first.timeMs <= limitMs else { return }
        let due = events.upperBound(limitMs)
        if events.count > CardState.foldEagerLimit, due < CardState.foldBatch { return }
        foldOldest(due)
    }

    /// Folds the `count` oldest held events into the aggregate, oldest first.
    mutating func foldOldest(_ count: Int) {
        guard count > 0 else { return }
        for event in events[..<count] { CardState.foldInto(&aggregate, event) }
        log?.folded += count
        index?.removingFront(count, of: events)
        events.removeSubrange(..<count)
    }

    /// States with at most this many held events fold due events at once.
    static let foldEagerLimit = 64
    /// Larger states fold once this many events are due.
    static let foldBatch = 64

    /// Builds or drops the window index and the decayed total as the held events cross `indexThreshold`.
    mutating func updateIndexPresence() {
        if events.count > CardState.indexThreshold {
            if index == nil { index = WindowIndex(events) }
            if decayed == nil { decayed = chainedDecayed(upTo: events.count) }
        } else {
            index = nil
            decayed = nil
        }
    }

    /// The aggregate with the first `count` held events folded into it, oldest first: what the decayed sums over
    /// the folded events and those held events are, rounded the way folding them would round.
    func chainedDecayed(upTo count: Int) -> Aggregate? {
        var chain = aggregate
        for event in events[..<count] { CardState.foldInto(&chain, event) }
        return chain
    }

    /// Adds `event` to decayed sums (nil: none yet; the first event becomes the reference time).
    static func foldInto(_ aggregate: inout Aggregate?, _ event: Event) {
        let tau = Double(Windows.meanTimeConstant)
        guard var agg = aggregate else {
            aggregate = Aggregate(refMs: event.timeMs, weightedSum: event.amount, weight: 1, latestMs: event.timeMs)
            return
        }
        // Wrapping: admissible times are far from overflow, and an altered blob must not trap.
        var exponent = Double(event.timeMs &- agg.refMs) / tau
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

extension Int64 {
    /// `self - other`, clamped to the range: window bounds of times an altered blob holds must not trap.
    @inline(__always)
    func minusSaturating(_ other: Int64) -> Int64 {
        let (value, overflow) = subtractingReportingOverflow(other)
        return overflow ? (other > 0 ? .min : .max) : value
    }
}

extension Array where Element == CardState.Event {
    /// The number of events with time `<= timeMs` among the first `end` (the array ascending by time).
    @inline(__always)
    func upperBound(_ timeMs: Int64, end: Int? = nil) -> Int {
        var low = 0, high = end ?? count
        while low < high {
            let mid = (low + high) >> 1
            if self[mid].timeMs <= timeMs { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
