import XCTest
@testable import VigilCore

final class CardStateTests: XCTestCase {
    /// A long random history of one card, applied with folding, gives the reference features at every step.
    func testIncrementalStateMatchesReferenceOverLongRandomHistories() {
        var rng = SplitMix(seed: 7)
        let config = FeatureConfig()
        for _ in 0..<5 {
            var state = CardState()
            var clock = PartitionClock()
            var accepted: [Transaction] = []
            var now = t0
            for i in 0..<400 {
                // Mostly forward in time with gaps from seconds to days, some out of order within the bounds.
                let gap = [Int64(5 * sec), 2 * minute, 40 * minute, 7 * hour, 3 * day][Int(rng.next() % 5)]
                now += Int64(rng.next() % UInt64(gap))
                var t = now
                if rng.next() % 10 == 0 { t -= Int64(rng.next() % UInt64(50 * minute)) }
                let merchants = ["m-1", "m-2", "m-3", "m-4", "m-5", "m-6"]
                let countries = ["DE", "FR", "NL"]
                let geo = rng.next() % 3 != 0
                let e = tx("tx-\(i)", minor: Int64(rng.next() % 50_000 + 1),
                           merchant: merchants[Int(rng.next() % 6)], country: countries[Int(rng.next() % 3)],
                           channel: rng.next() % 2 == 0 ? .pos : .ecom,
                           lat: geo ? Double(rng.next() % 180) - 90 : nil, lon: geo ? Double(rng.next() % 360) - 180 : nil,
                           at: t)
                if clock.lateness(of: t, config) != nil { continue }
                let expected = ReferenceFeatures.compute(e, history: accepted, config: config)
                let got = state.features(for: e, amount: e.amount, config: config)
                for feature in Feature.allCases {
                    XCTAssertEqual(got[feature], expected[feature], accuracy: abs(expected[feature]) * 1e-9 + 1e-9,
                                   "\(feature.name) at step \(i)")
                }
                clock.observe(t)
                state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
                accepted.append(e)
                // The blob round-trips exactly at every step.
                XCTAssertEqual(try CardState(decoding: state.encoded()), state)
            }
            // Folding kept the held events bounded by the horizon.
            XCTAssertTrue(state.events.allSatisfy { $0.timeMs > clock.maxEventMs! - config.foldHorizonMs })
        }
    }

    func testFoldingKeepsOnlyEventsInsideTheHorizon() {
        let config = FeatureConfig()
        var state = CardState()
        var clock = PartitionClock()
        for (i, t) in [t0, t0 + hour, t0 + 2 * day].enumerated() {
            let e = tx("t\(i)", at: t)
            clock.observe(t)
            state.apply(e, amount: e.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
        }
        XCTAssertEqual(state.events.map(\.timeMs), [t0 + 2 * day])
        XCTAssertEqual(state.aggregate?.latestMs, t0 + hour)
    }

    func testEventCapFoldsTheOldest() {
        let config = FeatureConfig()
        var state = CardState()
        for i in 0..<CardState.maxHeldEvents {
            state.apply(tx("t\(i)", at: t0 + Int64(i)), amount: 1, partitionMaxEventMs: t0 + Int64(i), config: config)
        }
        XCTAssertEqual(state.events.count, CardState.maxHeldEvents)
        XCTAssertNil(state.aggregate)
        // One more goes over the bound: the oldest are folded down to the cap.
        let i = CardState.maxHeldEvents
        state.apply(tx("t\(i)", at: t0 + Int64(i)), amount: 1, partitionMaxEventMs: t0 + Int64(i), config: config)
        XCTAssertEqual(state.events.count, CardState.maxEvents)
        XCTAssertEqual(state.events.first?.timeMs, t0 + Int64(CardState.capSlack + 1))
        XCTAssertEqual(state.aggregate?.latestMs, t0 + Int64(CardState.capSlack))
        let f = state.features(for: tx("x", at: t0 + 20_000), amount: 1, config: config)
        XCTAssertEqual(f[.count1m], Double(CardState.maxEvents))  // saturates at the cap
    }

    func testDecodingRejectsBadBlobs() {
        XCTAssertThrowsError(try CardState(decoding: [UInt8]()))
        XCTAssertThrowsError(try CardState(decoding: [9, 0, 0, 0, 0, 0, 0, 0]))
        var state = CardState()
        state.apply(tx(lat: 1, lon: 2, at: t0), amount: 10, partitionMaxEventMs: t0, config: FeatureConfig())
        let blob = state.encoded()
        for cut in 0..<blob.count { XCTAssertThrowsError(try CardState(decoding: blob[0..<cut])) }
        XCTAssertThrowsError(try CardState(decoding: blob + [0]))
    }

    func testPartitionClockLateness() {
        let config = FeatureConfig()
        var clock = PartitionClock()
        XCTAssertNil(clock.lateness(of: 0, config))  // nothing seen: nothing is late
        clock.observe(t0)
        clock.observe(t0 - hour)  // never moves back
        XCTAssertEqual(clock.maxEventMs, t0)
        XCTAssertEqual(clock.watermark(config), t0 - 5 * minute)
        let limit = t0 - 5 * minute - hour
        XCTAssertNil(clock.lateness(of: limit, config))  // exactly at the bound: admitted
        XCTAssertEqual(clock.lateness(of: limit - 1, config), 1)
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
