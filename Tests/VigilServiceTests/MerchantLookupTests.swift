import Foundation
import Redis
@testable import VigilService
import VigilCore
import XCTest

/// One batch's merchant lookup, reply by reply, without I/O.
final class MerchantLookupTests: XCTestCase {
    let snapshot = ServedMerchantRisk(
        version: "2026-11-24T00-00-00Z-0123456789ab", hashKey: "vigil:{mrisk}:2026-11-24T00-00-00Z-0123456789ab",
        cutMs: 1_795_478_400_000)
    let totals = MerchantRiskCounts(transactions1d: 100, transactions7d: 700, transactions30d: 3000, frauds1d: 1,
                                    frauds7d: 7, frauds30d: 60)

    func lookup(_ merchants: [String]) -> MerchantLookup {
        var l = MerchantLookup(snapshot)
        for m in merchants { _ = l.slot(for: m) }
        return l
    }

    func testDistinctMerchantsAfterTheTotalsField() {
        var l = MerchantLookup(snapshot)
        XCTAssertEqual(l.slot(for: "m-1"), 0)
        XCTAssertEqual(l.slot(for: "m-2"), 1)
        XCTAssertEqual(l.slot(for: "m-1"), 0)
        XCTAssertEqual(l.fields, [[], Array("m-1".utf8), Array("m-2".utf8)])
        XCTAssertEqual(l.merchantCount, 2)
    }

    func testServedMissingAndUnreadableMerchants() {
        let l = lookup(["m-1", "m-2", "m-3", "m-4"])
        let m1 = MerchantRiskCounts(transactions1d: 2, transactions7d: 9, transactions30d: 40, frauds1d: 1, frauds7d: 1, frauds30d: 5)
        let reply = RedisReply.array([
            .bulk(Array(totals.redisValue.utf8)), .bulk(Array(m1.redisValue.utf8)), .null, .bulk(Array("1,2".utf8)),
            .integer(3),
        ])
        let r = l.resolve(reply)
        XCTAssertEqual(r.features[0], MerchantRiskFeatures(merchant: m1, totals: totals))
        XCTAssertEqual(r.features[1], MerchantRiskFeatures(merchant: .zero, totals: totals), "missing: counts 0, rates the prior")
        XCTAssertEqual(r.features[1].fraudRate30d, 0.02, accuracy: 1e-15)
        XCTAssertEqual(r.features[2], .noSnapshot)
        XCTAssertEqual(r.features[3], .noSnapshot)
        XCTAssertEqual(r.fromSnapshot, [true, true, false, false])
        XCTAssertEqual(r.problem, "2 merchant values are unreadable")
    }

    func testNoUsableTableGivesEveryMerchantTheDefaults() {
        let l = lookup(["m-1", "m-2"])
        let value = RedisReply.bulk(Array("1,1,1,0,0,0".utf8))
        let cases: [(RedisReply?, String)] = [
            (nil, "no reply"),
            (.array([.null, value, value]), "no totals"),
            (.array([.bulk(Array("x".utf8)), value, value]), "totals are unreadable"),
            (.array([.bulk(Array(totals.redisValue.utf8)), value]), "not an array of 3"),
            (.error("WRONGTYPE Operation against a key holding the wrong kind of value"), "redis refused"),
            (.null, "not an array"),
        ]
        for (reply, problem) in cases {
            let r = l.resolve(reply)
            XCTAssertEqual(r.features, [.noSnapshot, .noSnapshot], problem)
            XCTAssertEqual(r.fromSnapshot, [false, false], problem)
            XCTAssertTrue(r.problem?.contains(problem) == true, "\(problem): \(r.problem ?? "nil")")
        }
    }

    func testProblemLogGateLetsOneLineAMinuteThrough() {
        var gate = ProblemLogGate()
        let t = Date(timeIntervalSince1970: 1000)
        XCTAssertEqual(gate.admit(now: t), 0)
        XCTAssertNil(gate.admit(now: t.addingTimeInterval(1)))
        XCTAssertNil(gate.admit(now: t.addingTimeInterval(59.9)))
        XCTAssertEqual(gate.admit(now: t.addingTimeInterval(60)), 2, "two problems were not logged since")
        XCTAssertNil(gate.admit(now: t.addingTimeInterval(61)))
    }
}
