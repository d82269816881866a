import XCTest
@testable import VigilCore

/// The state blob's bytes are a stored format: blobs already in Redis must decode, and encoding must write the same
/// bytes as before. These tests hold the pointer-based codec to the first, byte-by-byte implementation (kept below as
/// `LegacyCardStateCodec`) and to golden bytes.
final class CardStateCodecTests: XCTestCase {
    func testGoldenBytes() throws {
        var state = CardState()
        state.lastCountry = 0x4544
        state.lastGeo = CardState.GeoFix(timeMs: 0x0102_0304_0506_0708, lat: 1.5, lon: -2)
        state.aggregate = CardState.Aggregate(refMs: 1, weightedSum: 0.5, weight: 2, latestMs: -1)
        state.events = [CardState.Event(timeMs: 0x1122, amount: 10, merchantHash: 0xAABB_CCDD_EEFF_0011, country: 0x5246)]
        let golden: [UInt8] = [
            0x01, 0x07, 0x44, 0x45,
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // geo time
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,  // lat 1.5
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,  // lon -2
            0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // ref ms
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xE0, 0x3F,  // S 0.5
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,  // W 2
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,  // latest folded -1
            0x01, 0x00, 0x00, 0x00,  // n
            0x22, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // time
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x24, 0x40,  // amount 10
            0x11, 0x00, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA,  // merchant
            0x46, 0x52,  // country
        ]
        XCTAssertEqual(state.encoded(), golden)
        XCTAssertEqual(state.encodedSize, golden.count)
        XCTAssertEqual(try CardState(decoding: golden), state)

        XCTAssertEqual(CardState().encoded(), [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try CardState(decoding: [1, 0, 0, 0, 0, 0, 0, 0] as [UInt8]), CardState())
    }

    /// Format 2's bytes, fixed: format 1's with the format byte 2, then the day count and the buckets.
    func testGoldenBytesWithDays() throws {
        var state = CardState()
        state.days = [CardState.DayBucket(day: 20_416, count: 3, sum: 1.5), CardState.DayBucket(day: -1, count: 1, sum: -2)]
        let golden: [UInt8] = [
            0x02, 0x00, 0x00, 0x00,  // format 2, no flags
            0x00, 0x00, 0x00, 0x00,  // no events
            0x02, 0x00,  // two days
            0xC0, 0x4F, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF8, 0x3F,
            0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xC0,
        ]
        XCTAssertEqual(state.encoded(), golden)
        XCTAssertEqual(state.encodedSize, golden.count)
        XCTAssertEqual(try CardState(decoding: golden), state)
    }

    /// Blobs written before catalog 2 (format 1, no day buckets) decode to the state they held; the next transaction
    /// starts the card's day buckets, and the state is then written as format 2 and reads back.
    func testFormatOneBlobsFromBeforeCatalogTwoStillWork() throws {
        var rng = SplitMix(seed: 15)
        for var old in Self.appliedHistories(&rng).prefix(50) {
            old.days = []  // as a Vigil before catalog 2 held it
            let blob = LegacyCardStateCodec.encode(old)
            XCTAssertEqual(blob.first, 1)
            var state = try CardState(decoding: blob)
            XCTAssertEqual(state, old)
            XCTAssertEqual(state.encoded(), blob, "a state without day buckets is still written as format 1")
            let t = (old.events.map(\.timeMs).max() ?? t0) + minute
            state.apply(tx("next", minor: 700, at: t), amount: 7, partitionMaxEventMs: t, config: FeatureConfig())
            XCTAssertEqual(state.days, [CardState.DayBucket(day: Windows.utcDay(t), count: 1, sum: 7)])
            XCTAssertEqual(state.encoded().first, 2)
            XCTAssertEqual(try CardState(decoding: state.encoded()), state)
        }
    }

    /// States built the way the pipeline builds them, and states with arbitrary field values, encode to the legacy
    /// bytes and decode back, through every entry point.
    func testEncodingMatchesLegacyAndRoundTrips() throws {
        var rng = SplitMix(seed: 11)
        var states = Self.appliedHistories(&rng)
        for _ in 0..<300 { states.append(Self.arbitraryState(&rng)) }
        for state in states {
            let blob = state.encoded()
            // Format 3 (a decayed total) is not in the legacy codec; everything else is written as it wrote it.
            let legacy = state.decayed == nil ? LegacyCardStateCodec.encode(state) : blob
            XCTAssertEqual(blob, legacy)
            XCTAssertEqual(state.encodedSize, blob.count)

            var appended: [UInt8] = [9, 8, 7]
            state.encode(into: &appended)
            XCTAssertEqual(appended, [9, 8, 7] + legacy)

            // Compared through the bytes: arbitrary states may hold NaN bit patterns. A state of many events read
            // back gains its decayed total.
            let reread = Self.normalized(state)
            XCTAssertEqual(try CardState(decoding: blob).encoded(), reread)
            XCTAssertEqual(try CardState(decoding: appended[3...]).encoded(), reread)
            XCTAssertEqual(try CardState(decoding: blob.lazy.map { $0 }).encoded(), reread)  // not contiguous
            XCTAssertEqual(try blob.withUnsafeBytes { try CardState(decoding: $0) }.encoded(), reread)
            if !Self.holdsNaN(state), state.events.count <= CardState.indexThreshold || state.decayed != nil {
                XCTAssertEqual(try CardState(decoding: blob), state)
            }
        }
    }

    /// Truncations at every length, extensions, flipped bytes and random garbage: the decoder throws where the legacy
    /// decoder threw, with the same error, and decodes the same state where it decoded one. It never traps.
    func testDecodingAgreesWithLegacyOnMalformedBlobs() {
        var rng = SplitMix(seed: 12)
        var blobs: [[UInt8]] = []
        for state in Self.appliedHistories(&rng).prefix(40) + (0..<40).map({ _ in Self.arbitraryState(&rng) }) {
            let blob = state.encoded()
            for cut in 0..<blob.count { blobs.append(Array(blob[..<cut])) }
            blobs.append(blob + [0])
            blobs.append(blob + blob)
            for _ in 0..<20 {
                var flipped = blob
                let i = Int(rng.next() % UInt64(blob.count))
                flipped[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                blobs.append(flipped)
            }
        }
        for length in 0..<300 {
            blobs.append((0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            // Garbage behind a valid format byte and flags, so that it reaches the field and event checks.
            var framed = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if length > 1 { framed[0] = 1; framed[1] &= 7 }
            blobs.append(framed)
            if length > 1 { framed[0] = 2 }
            blobs.append(framed)
        }
        for blob in blobs {
            // What the legacy decoder read, with its events put in time order and a decayed total if they are many.
            let expected = Self.outcome { () throws(CardStateDecodingError) in
                var state = try LegacyCardStateCodec.decode(blob)
                state.afterDecoding()
                return state
            }
            XCTAssertEqual(Self.outcome { () throws(CardStateDecodingError) in try CardState(decoding: blob) }, expected)
            XCTAssertEqual(Self.outcome { () throws(CardStateDecodingError) in try CardState(decoding: blob[...]) }, expected)
        }
    }

    func testDecodingNamesWhatIsWrong() {
        XCTAssertThrowsError(try CardState(decoding: [UInt8]())) { XCTAssertEqual($0 as? CardStateDecodingError, .truncated) }
        XCTAssertThrowsError(try CardState(decoding: [3, 0, 0, 0, 0, 0, 0, 0] as [UInt8])) {
            XCTAssertEqual($0 as? CardStateDecodingError, .unknownFormat(3))
        }
        // Format 2 without its day count, with none, with more than the bound, or one the length does not hold.
        XCTAssertThrowsError(try CardState(decoding: [2, 0, 0, 0, 0, 0, 0, 0] as [UInt8])) {
            XCTAssertEqual($0 as? CardStateDecodingError, .badEventCount(0))
        }
        XCTAssertThrowsError(try CardState(decoding: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0] as [UInt8])) {
            XCTAssertEqual($0 as? CardStateDecodingError, .badDayCount(0))
        }
        XCTAssertThrowsError(try CardState(decoding: [2, 0, 0, 0, 0, 0, 0, 0, 41, 0] + [UInt8](repeating: 0, count: 41 * 16))) {
            XCTAssertEqual($0 as? CardStateDecodingError, .badDayCount(41))
        }
        XCTAssertThrowsError(try CardState(decoding: [2, 0, 0, 0, 0, 0, 0, 0, 2, 0] + [UInt8](repeating: 0, count: 16))) {
            XCTAssertEqual($0 as? CardStateDecodingError, .badDayCount(2))
        }
        XCTAssertThrowsError(try CardState(decoding: [1, 6, 0, 0, 0, 0, 0, 0] as [UInt8])) {
            XCTAssertEqual($0 as? CardStateDecodingError, .truncated)  // geo and aggregate flagged, not there
        }
        // An event count beyond the cap, or one the length does not hold.
        let huge: [UInt8] = [1, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        XCTAssertThrowsError(try CardState(decoding: huge)) {
            XCTAssertEqual($0 as? CardStateDecodingError, .badEventCount(Int(UInt32.max)))
        }
        let two: [UInt8] = [1, 0, 0, 0, 2, 0, 0, 0] + [UInt8](repeating: 0, count: 26)
        XCTAssertThrowsError(try CardState(decoding: two)) { XCTAssertEqual($0 as? CardStateDecodingError, .badEventCount(2)) }
        XCTAssertThrowsError(try CardState(decoding: UnsafeRawBufferPointer(start: nil, count: 0))) {
            XCTAssertEqual($0 as? CardStateDecodingError, .truncated)
        }
    }

    /// A decoded state takes the next transaction like the state it was encoded from (same bytes afterwards), including
    /// the folding that compacts the events in place.
    func testApplyingToADecodedStateMatchesTheOriginal() throws {
        var rng = SplitMix(seed: 13)
        let config = FeatureConfig()
        var state = CardState()
        var clock = PartitionClock()
        var now = t0
        for i in 0..<600 {
            now += Int64(rng.next() % UInt64([Int64(5 * sec), 10 * minute, 6 * hour, 2 * day][Int(rng.next() % 4)]))
            let e = tx("tx-\(i)", minor: Int64(rng.next() % 9_000 + 1), merchant: "m-\(rng.next() % 9)",
                       country: ["DE", "FR"][Int(rng.next() % 2)], lat: 1, lon: 2, at: now)
            clock.observe(now)
            var decoded = try CardState(decoding: state.encoded())
            decoded.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
            XCTAssertEqual(decoded.encoded(), state.encoded(), "step \(i)")
            XCTAssertEqual(decoded, state)
        }
    }

    func testDistinctCountMatchesASet() {
        var rng = SplitMix(seed: 14)
        for count in 0..<300 {
            for range: UInt64 in [1, 2, 5, 9, 20, 70, 1 << 40] {
                var wide = (0..<count).map { _ in rng.next() % range }
                var narrow = wide.map { UInt16(truncatingIfNeeded: $0) }
                let expectedWide = Set(wide).count, expectedNarrow = Set(narrow).count
                XCTAssertEqual(wide.withUnsafeMutableBufferPointer { distinctCount($0) }, expectedWide, "\(count) in \(range)")
                XCTAssertEqual(narrow.withUnsafeMutableBufferPointer { distinctCount($0) }, expectedNarrow, "\(count) in \(range)")
            }
        }
        // Values that share hash slots.
        var colliding = (0..<64).map { UInt64($0) << 58 } + (0..<64).map { UInt64($0) << 58 }
        XCTAssertEqual(colliding.withUnsafeMutableBufferPointer { distinctCount($0) }, 64)
    }

    // MARK: Inputs

    /// States after random card histories applied with folding, as the pipeline holds them.
    static func appliedHistories(_ rng: inout SplitMix) -> [CardState] {
        let config = FeatureConfig()
        var states: [CardState] = []
        for _ in 0..<4 {
            var state = CardState()
            var clock = PartitionClock()
            var now = t0
            for i in 0..<250 {
                let gap = [Int64(5 * sec), 2 * minute, 40 * minute, 7 * hour, 3 * day][Int(rng.next() % 5)]
                now += Int64(rng.next() % UInt64(gap))
                var t = now
                if rng.next() % 10 == 0 { t -= Int64(rng.next() % UInt64(50 * minute)) }
                let geo = rng.next() % 3 != 0
                let e = tx("tx-\(i)", minor: Int64(rng.next() % 50_000 + 1), merchant: "m-\(rng.next() % 7)",
                           country: ["DE", "FR", "NL"][Int(rng.next() % 3)],
                           lat: geo ? Double(rng.next() % 180) - 90 : nil, lon: geo ? Double(rng.next() % 360) - 180 : nil,
                           at: t)
                if clock.lateness(of: t, config) != nil { continue }
                clock.observe(t)
                state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
                states.append(state)
            }
        }
        return states
    }

    /// A state with arbitrary bit patterns in every field, each optional part present or not.
    static func arbitraryState(_ rng: inout SplitMix) -> CardState {
        var state = CardState()
        if rng.next() % 2 == 0 { state.lastCountry = UInt16(truncatingIfNeeded: rng.next()) }
        if rng.next() % 2 == 0 {
            state.lastGeo = CardState.GeoFix(
                timeMs: Int64(bitPattern: rng.next()), lat: Double(bitPattern: rng.next()), lon: Double(bitPattern: rng.next()))
        }
        if rng.next() % 2 == 0 {
            state.aggregate = CardState.Aggregate(
                refMs: Int64(bitPattern: rng.next()), weightedSum: Double(bitPattern: rng.next()),
                weight: Double(bitPattern: rng.next()), latestMs: Int64(bitPattern: rng.next()))
        }
        if rng.next() % 2 == 0 {
            state.days = (0..<Int(rng.next() % UInt64(CardState.maxDays) + 1)).map { _ in
                CardState.DayBucket(
                    day: Int32(truncatingIfNeeded: rng.next()), count: UInt32(truncatingIfNeeded: rng.next()),
                    sum: Double(bitPattern: rng.next()))
            }
        }
        let n = [0, 1, 2, 17, 300][Int(rng.next() % 5)]
        state.events = (0..<n).map { _ in
            CardState.Event(
                timeMs: Int64(bitPattern: rng.next()), amount: Double(bitPattern: rng.next()),
                merchantHash: rng.next(), country: UInt16(truncatingIfNeeded: rng.next()))
        }
        // Held events are in time order (a state read in puts them so).
        state.events.sort { $0.timeMs < $1.timeMs }
        return state
    }

    static func holdsNaN(_ state: CardState) -> Bool {
        let doubles = state.events.map(\.amount) + [state.lastGeo?.lat, state.lastGeo?.lon,
                                                      state.aggregate?.weightedSum, state.aggregate?.weight].compactMap { $0 }
            + state.days.map(\.sum)
        return doubles.contains { $0.isNaN }
    }

    /// The bytes of `state` as it reads back: events in time order, with a decayed total if they are many.
    static func normalized(_ state: CardState) -> [UInt8] {
        var state = state
        state.afterDecoding()
        return state.encoded()
    }

    /// A decoding result comparable across implementations: the state's bytes, or the error.
    static func outcome(_ decode: () throws(CardStateDecodingError) -> CardState) -> Result<[UInt8], CardStateDecodingError> {
        Result { () throws(CardStateDecodingError) in try decode().encoded() }
    }
}

/// The first implementation of the format, byte by byte, kept as the reference for the bytes and the errors; format 2
/// (format 1 and the day buckets) was added to it the same way.
enum LegacyCardStateCodec {
    static func encode(_ state: CardState) -> [UInt8] {
        var out: [UInt8] = []
        func appendLE<T: FixedWidthInteger>(_ value: T) {
            for i in 0..<MemoryLayout<T>.size { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
        }
        var flags: UInt8 = 0
        if state.lastCountry != nil { flags |= 1 }
        if state.lastGeo != nil { flags |= 2 }
        if state.aggregate != nil { flags |= 4 }
        out.append(state.days.isEmpty ? 1 : 2)
        out.append(flags)
        appendLE(state.lastCountry ?? 0)
        if let g = state.lastGeo {
            appendLE(UInt64(bitPattern: g.timeMs))
            appendLE(g.lat.bitPattern)
            appendLE(g.lon.bitPattern)
        }
        if let a = state.aggregate {
            appendLE(UInt64(bitPattern: a.refMs))
            appendLE(a.weightedSum.bitPattern)
            appendLE(a.weight.bitPattern)
            appendLE(UInt64(bitPattern: a.latestMs))
        }
        appendLE(UInt32(state.events.count))
        for e in state.events {
            appendLE(UInt64(bitPattern: e.timeMs))
            appendLE(e.amount.bitPattern)
            appendLE(e.merchantHash)
            appendLE(e.country)
        }
        if !state.days.isEmpty {
            appendLE(UInt16(state.days.count))
            for d in state.days {
                appendLE(d.day)
                appendLE(d.count)
                appendLE(d.sum.bitPattern)
            }
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(CardStateDecodingError) -> CardState {
        var position = 0
        func read<T: FixedWidthInteger>(_: T.Type) -> T? {
            let size = MemoryLayout<T>.size
            guard bytes.count - position >= size else { return nil }
            var value: T = 0
            for i in 0..<size { value |= T(bytes[position + i]) << (8 * i) }
            position += size
            return value
        }
        guard let version = read(UInt8.self) else { throw .truncated }
        guard version == 1 || version == 2 else { throw .unknownFormat(version) }
        guard let flags = read(UInt8.self), let country = read(UInt16.self) else { throw .truncated }
        var state = CardState()
        if flags & 1 != 0 { state.lastCountry = country }
        if flags & 2 != 0 {
            guard let t = read(UInt64.self), let lat = read(UInt64.self), let lon = read(UInt64.self) else {
                throw .truncated
            }
            state.lastGeo = CardState.GeoFix(
                timeMs: Int64(bitPattern: t), lat: Double(bitPattern: lat), lon: Double(bitPattern: lon))
        }
        if flags & 4 != 0 {
            guard let r = read(UInt64.self), let s = read(UInt64.self), let w = read(UInt64.self),
                  let l = read(UInt64.self)
            else { throw .truncated }
            state.aggregate = CardState.Aggregate(
                refMs: Int64(bitPattern: r), weightedSum: Double(bitPattern: s),
                weight: Double(bitPattern: w), latestMs: Int64(bitPattern: l))
        }
        guard let n = read(UInt32.self) else { throw .truncated }
        if version == 2 {
            guard Int(n) <= CardState.maxEvents, bytes.count - position >= Int(n) * 26 + 2 else {
                throw .badEventCount(Int(n))
            }
        } else {
            guard Int(n) <= CardState.maxEvents, bytes.count - position == Int(n) * 26 else { throw .badEventCount(Int(n)) }
        }
        for _ in 0..<n {
            guard let t = read(UInt64.self), let a = read(UInt64.self), let m = read(UInt64.self),
                  let c = read(UInt16.self)
            else { throw .truncated }
            state.events.append(CardState.Event(
                timeMs: Int64(bitPattern: t), amount: Double(bitPattern: a), merchantHash: m, country: c))
        }
        guard version == 2 else { return state }
        guard let k = read(UInt16.self) else { throw .truncated }
        guard k > 0, Int(k) <= CardState.maxDays, bytes.count - position == Int(k) * 16 else { throw .badDayCount(Int(k)) }
        for _ in 0..<k {
            guard let d = read(UInt32.self), let c = read(UInt32.self), let sum = read(UInt64.self) else { throw .truncated }
            state.days.append(CardState.DayBucket(day: Int32(bitPattern: d), count: c, sum: Double(bitPattern: sum)))
        }
        return state
    }
}
