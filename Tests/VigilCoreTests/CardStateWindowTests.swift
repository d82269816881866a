import XCTest
@testable import VigilCore

/// The window index of busy cards (more than `CardState.indexThreshold` held events): the same features as the
/// catalog's literal definitions, the same to the bit whether the state was kept in memory or read back from its
/// blob, and the same integers as scanning the events.
/// A busy card: bursts seconds apart with events out of order by up to the allowed bounds, quiet spells that
/// let windows empty and events fold, many merchants and a few countries, amounts across currencies.
func busyHistory(seed: UInt64, count: Int) -> [Transaction] {
    var rng = SplitMix(seed: seed)
    var now = t0
    var out: [Transaction] = []
    for i in 0..<count {
        let gap = [Int64(200), 3 * sec, 20 * sec, 4 * minute, 50 * minute, 26 * hour][Int(rng.next() % 100 < 95 ? rng.next() % 4 : 4 + rng.next() % 2)]
        now += Int64(rng.next() % UInt64(gap))
        var t = now
        switch rng.next() % 20 {
        case 0: t -= Int64(rng.next() % UInt64(64 * minute))  // out of order, within lateness
        case 1, 2: t -= Int64(rng.next() % 250)               // publisher jitter
        default: break
        }
        let currency = ["EUR", "JPY", "KWD", "EUR"][Int(rng.next() % 4)]
        let geo = rng.next() % 4 != 0
        out.append(tx("tx-\(i)", minor: Int64(rng.next() % 90_000 + 1), currency: currency,
                      merchant: "m-\(rng.next() % 40)", country: ["DE", "FR", "NL", "US"][Int(rng.next() % 4)],
                      lat: geo ? Double(rng.next() % 170) - 85 : nil, lon: geo ? Double(rng.next() % 360) - 180 : nil,
                      at: t))
    }
    return out
}

final class CardStateWindowTests: XCTestCase {
    func assertMatches(_ got: FeatureVector, _ expected: FeatureVector, _ what: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        for feature in Feature.allCases {
            XCTAssertEqual(got[feature], expected[feature], accuracy: abs(expected[feature]) * 1e-9 + 1e-9,
                           "\(feature.name): \(what)", file: file, line: line)
        }
    }

    func testBusyCardMatchesTheDefinitionsAndItsBlobAtEveryStep() {
        let config = FeatureConfig()
        for seed in [UInt64(3), 11] {
            var state = CardState()
            var clock = PartitionClock()
            var accepted: [Transaction] = []
            var indexedSteps = 0
            for (i, e) in busyHistory(seed: seed, count: 1_200).enumerated() {
                if clock.lateness(of: e.eventTimeMs, config) != nil { continue }
                let got = state.features(for: e, amount: e.amount, config: config)
                if state.index != nil { indexedSteps += 1 }
                assertMatches(got, ReferenceFeatures.compute(e, history: accepted, config: config), "step \(i)")
                // Read back from its blob, the state gives the same features to the bit.
                let reread = try! CardState(decoding: state.encoded())
                XCTAssertEqual(reread, state)
                XCTAssertEqual(reread.index, state.index, "step \(i)")
                XCTAssertEqual(reread.features(for: e, amount: e.amount, config: config), got, "step \(i)")
                clock.observe(e.eventTimeMs)
                state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
                accepted.append(e)
                // Kept up to date, the index is the one built from the events.
                if let index = state.index { XCTAssertEqual(index, WindowIndex(state.events), "step \(i)") }
                XCTAssertEqual(zip(state.events, state.events.dropFirst()).allSatisfy { $0.timeMs <= $1.timeMs }, true)
            }
            XCTAssertGreaterThan(indexedSteps, 800, "the history exercises the index")
        }
    }

    /// A state read back from its blob at each step and carried on gives the same features, to the bit, as one
    /// kept in memory throughout: what the owned-card cache relies on.
    func testCarryingOnFromTheBlobGivesTheSameFeaturesToTheBit() throws {
        let config = FeatureConfig()
        var kept = CardState()
        var reread = CardState()
        var clock = PartitionClock()
        for e in busyHistory(seed: 5, count: 1_500) {
            if clock.lateness(of: e.eventTimeMs, config) != nil { continue }
            XCTAssertEqual(kept.features(for: e, amount: e.amount, config: config),
                           reread.features(for: e, amount: e.amount, config: config))
            clock.observe(e.eventTimeMs)
            kept.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            reread.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            reread = try CardState(decoding: reread.encoded())
        }
        XCTAssertEqual(kept, reread)
    }

    /// Scanning and moving a window give the same sums, counts and sets (not only within rounding).
    func testMovedWindowsEqualScannedWindows() {
        let config = FeatureConfig()
        var state = CardState()
        var clock = PartitionClock()
        for e in busyHistory(seed: 9, count: 900) {
            if clock.lateness(of: e.eventTimeMs, config) != nil { continue }
            clock.observe(e.eventTimeMs)
            state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            guard let index = state.index else { continue }
            let latest = state.events.last!.timeMs
            for t in [latest, latest - 300, latest - 40 * minute, latest + 2 * minute, latest + 3 * hour] {
                let high = state.events.upperBound(t)
                for k in [WindowIndex.hour, WindowIndex.day] {
                    let low = state.events.upperBound(t - WindowIndex.lengths[k], end: high)
                    let move = WindowMove(index: index, k: k, low: low, high: high, count: state.events.count)
                    XCTAssertEqual(move.movedSum(state.events), state.directSum(low, high))
                    let merchant = state.events[high > 0 ? high - 1 : 0].merchantHash
                    XCTAssertEqual(move.movedCount(of: merchant, index.merchantsDay, state.events),
                                   k == WindowIndex.day ? state.directCount(of: merchant, low, high) : move.movedCount(of: merchant, index.merchantsDay, state.events))
                }
                let hourLow = state.events.upperBound(t - Windows.hour, end: high)
                let hour = WindowMove(index: index, k: WindowIndex.hour, low: hourLow, high: high, count: state.events.count)
                XCTAssertEqual(hour.movedDistinct(index.merchantsHour, state.events, \.merchantHash),
                               state.directDistinctMerchants(hourLow, high))
                let dayLow = state.events.upperBound(t - Windows.day, end: high)
                let day = WindowMove(index: index, k: WindowIndex.day, low: dayLow, high: high, count: state.events.count)
                XCTAssertEqual(day.movedDistinct(index.countriesDay, state.events, \.country),
                               state.directDistinctCountries(dayLow, high))
            }
        }
    }

    /// A card-testing burst: thousands of payments in a minute stay within the held-event bound, the counts saturate
    /// no lower than the contract's 10,000, and the blob of the state is bounded.
    func testABurstAboveTheCapSaturatesAndStaysBounded() throws {
        let config = FeatureConfig()
        var state = CardState()
        var clock = PartitionClock()
        for i in 0..<(CardState.maxEvents + 3 * CardState.capSlack) {
            let e = tx("b\(i)", minor: 100, merchant: "m-\(i % 500)", at: t0 + Int64(i) * 5)
            clock.observe(e.eventTimeMs)
            state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            XCTAssertLessThanOrEqual(state.events.count, CardState.maxHeldEvents)
        }
        let f = state.features(for: tx("x", minor: 100, at: clock.maxEventMs! + 1), amount: 1, config: config)
        XCTAssertGreaterThanOrEqual(f[.count1m], Double(CardState.maxEvents))
        XCTAssertLessThanOrEqual(f[.count1m], Double(CardState.maxHeldEvents))
        XCTAssertEqual(f[.distinctMerchants1h], 500)
        XCTAssertEqual(try CardState(decoding: state.encoded()), state)
        XCTAssertLessThanOrEqual(state.encodedSize, 300_000)
    }

    func testSumsAreExactIntegerSums() {
        // 0.1 + 0.2 in doubles is not 0.3; in 10^-4 units it is.
        var state = CardState()
        let config = FeatureConfig()
        for (i, minor) in [Int64(10), 20].enumerated() {
            state.apply(tx("s\(i)", minor: minor, at: t0 + Int64(i)), amount: Double(minor) / 100,
                        partitionMaxEventMs: t0 + Int64(i), config: config)
        }
        XCTAssertEqual(state.features(for: tx("x", at: t0 + 5), amount: 1, config: config)[.sum1h], 0.3)
    }

    func testAFormat3BlobWithFewEventsIsRefused() throws {
        var state = CardState()
        let config = FeatureConfig()
        for i in 0...CardState.indexThreshold {
            state.apply(tx("f\(i)", at: t0 + Int64(i)), amount: 1, partitionMaxEventMs: t0 + Int64(i), config: config)
        }
        var blob = state.encoded()
        XCTAssertEqual(blob[0], CardState.formatVersionWithTotal)
        XCTAssertEqual(try CardState(decoding: blob), state)
        // The event count says 33; cut one event and fix the count: 32 events do not carry a decayed total.
        let countOffset = 4 + 32 + 24
        blob.replaceSubrange(countOffset..<countOffset + 4, with: [32, 0, 0, 0])
        blob.removeSubrange(countOffset + 4..<countOffset + 4 + 26)
        XCTAssertThrowsError(try CardState(decoding: blob))
    }
}

/// A busy card stored as a header and a log: what the store holds after any sequence of batches reads back as the
/// state kept in memory, to the bit, and a batch writes its new events, not the card's window.
final class CardStateLogTests: XCTestCase {
    /// Redis as the store stage leaves it: the card key's value and the log.
    struct Stored {
        var value: [UInt8]?
        var log: [UInt8]?

        mutating func apply(_ write: CardStateWrite) {
            value = write.value
            switch write.log {
            case .keep: break
            case .append(let bytes): log = (log ?? []) + bytes
            case .replace(let bytes): log = bytes
            case .delete: log = nil
            }
        }

        func read() throws -> CardState {
            guard let value else { return CardState() }
            if CardState.isHeader(value) { return try CardState(header: value, log: log ?? []) }
            return try CardState(decoding: value)
        }
    }

    func testTheStoredHeaderAndLogReadBackAsTheStateAfterEveryBatch() throws {
        let config = FeatureConfig()
        let history = busyHistory(seed: 17, count: 2_500)
        var rng = SplitMix(seed: 99)
        var kept = CardState()
        var stored = Stored()
        var clock = PartitionClock()
        var pending = 0
        var appendedBytes = 0, rewrittenBytes = 0, rewrites = 0, layouts = 0
        var accepted: [Transaction] = []
        for e in history {
            if clock.lateness(of: e.eventTimeMs, config) != nil { continue }
            if pending == 0 {
                // At a batch boundary, what the store holds gives the same features, to the bit.
                XCTAssertEqual(try stored.read().features(for: e, amount: e.amount, config: config),
                               kept.features(for: e, amount: e.amount, config: config))
            }
            let expected = ReferenceFeatures.compute(e, history: accepted, config: config)
            let got = kept.features(for: e, amount: e.amount, config: config)
            for feature in Feature.allCases {
                XCTAssertEqual(got[feature], expected[feature], accuracy: abs(expected[feature]) * 1e-9 + 1e-9, feature.name)
            }
            clock.observe(e.eventTimeMs)
            kept.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            accepted.append(e)
            pending += 1
            // A batch ends after 1-40 of the card's transactions: the store writes it, and the next batch starts
            // either from memory or (sometimes) from what Redis holds.
            if rng.next() % 40 < UInt64(pending) || pending >= 40 {
                let write = kept.stateWrite()
                switch write.log {
                case .append(let bytes):
                    appendedBytes += bytes.count
                    XCTAssertEqual(bytes.count, 26 * kept.logChange.appended.count)
                    XCTAssertLessThanOrEqual(bytes.count, 26 * pending, "a batch appends its new events only")
                case .replace(let bytes):
                    rewrittenBytes += bytes.count
                    rewrites += 1
                default: break
                }
                if CardState.isHeader(write.value) { layouts += 1 }
                stored.apply(write)
                let reread = try stored.read()
                XCTAssertEqual(reread, kept)
                XCTAssertEqual(reread.log, kept.log)
                XCTAssertEqual(reread.index, kept.index)
                if let log = kept.log {
                    XCTAssertEqual(stored.log?.count, 26 * log.count)
                    XCTAssertLessThanOrEqual(log.count, 2 * kept.events.count + CardState.logRewriteMinimum)
                } else {
                    XCTAssertNil(stored.log, "a card that left the layout has no log")
                }
                kept = rng.next() % 4 == 0 ? reread : kept
                kept.beginBatch()
                pending = 0
            }
        }
        XCTAssertGreaterThan(layouts, 30, "the card was in the log layout")
        XCTAssertGreaterThan(rewrites, 1)
        XCTAssertGreaterThan(appendedBytes, 0)
        print("log layout: \(layouts) batches, appended \(appendedBytes) B, rewrote \(rewrites)x \(rewrittenBytes) B")
    }

    func testAnOldSingleValueBusyCardMovesToTheLogOnItsNextWrite() throws {
        let config = FeatureConfig()
        var state = CardState()
        for i in 0..<50 {
            state.apply(tx("o\(i)", at: t0 + Int64(i) * 1000), amount: 1, partitionMaxEventMs: t0 + Int64(i) * 1000, config: config)
        }
        // Written as one value (format 3, or 1 and 2 by an earlier Vigil), read back: no log yet.
        var read = try CardState(decoding: state.encoded())
        XCTAssertNil(read.log)
        read.beginBatch()
        read.apply(tx("o50", at: t0 + 50_000), amount: 1, partitionMaxEventMs: t0 + 50_000, config: config)
        let write = read.stateWrite()
        XCTAssertTrue(CardState.isHeader(write.value))
        guard case .replace(let log) = write.log else { return XCTFail("the whole log is written: \(write.log)") }
        XCTAssertEqual(log.count, 26 * 51)
        XCTAssertEqual(try CardState(header: write.value, log: log), read)
    }

    func testAHeaderWithALogThatDoesNotMatchIsRefused() throws {
        let config = FeatureConfig()
        var state = CardState()
        for i in 0..<40 {
            state.apply(tx("h\(i)", at: t0 + Int64(i)), amount: 1, partitionMaxEventMs: t0 + Int64(i), config: config)
        }
        let write = state.stateWrite()
        guard case .replace(let log) = write.log else { return XCTFail("\(write.log)") }
        XCTAssertNoThrow(try CardState(header: write.value, log: log))
        XCTAssertThrowsError(try CardState(header: write.value, log: Array(log.dropLast(26))))
        XCTAssertThrowsError(try CardState(header: write.value, log: log + log))
        XCTAssertThrowsError(try CardState(decoding: write.value), "a header alone is not a state")
        XCTAssertThrowsError(try CardState(header: Array(write.value.dropLast()), log: log))
    }
}
