import Foundation
import Logging
import Redis
import VigilCore
@testable import VigilService
import XCTest

/// Merchant-risk snapshots published through Redis (`MerchantRiskChannel`, docs/merchant-risk.md "In Redis"), on a
/// real redis-server.
final class MerchantRiskChannelTests: XCTestCase {
    var redis: RedisServerProcess!
    var connection: RedisConnection!

    override func setUpWithError() throws {
        redis = try RedisServerProcess.start()
        connection = try RedisConnection(host: redis.host, port: redis.port)
    }

    override func tearDown() {
        connection?.close()
        redis?.stop()
    }

    func channel(prefix: String = "vigil") -> MerchantRiskChannel {
        MerchantRiskChannel(host: redis.host, port: redis.port, prefix: prefix)
    }

    func table(_ count: Int, salt: Int64 = 0) -> [(merchantId: String, counts: MerchantRiskCounts)] {
        (0..<count).map { i in
            let n = Int64(i % 97) + salt
            return (String(format: "m-%07d", i), MerchantRiskCounts(
                transactions1d: n, transactions7d: 2 * n, transactions30d: 5 * n, frauds1d: 0, frauds7d: n / 10, frauds30d: n / 5))
        }
    }

    func totals(_ merchants: [(merchantId: String, counts: MerchantRiskCounts)]) -> MerchantRiskCounts {
        merchants.reduce(.zero) { $0 + $1.counts }
    }

    func ttl(_ key: String) throws -> Int64 { try XCTUnwrap(connection.send("PTTL", key).int) }

    func testPublishServesTheWholeTableUnderItsVersion() throws {
        let c = channel()
        XCTAssertNil(try c.current())
        let merchants = table(2_500)  // three HSET commands of up to 1,000 fields
        let result = try c.publish(version: "v1", totals: totals(merchants), merchants: merchants)
        XCTAssertEqual(result, MerchantRiskPublication(version: "v1", switched: true, previous: nil, fields: 2_501, commands: 3))
        XCTAssertEqual(try c.current(), "v1")
        XCTAssertEqual(c.currentKey, "vigil:{mrisk}:current")
        XCTAssertEqual(c.snapshotKey("v1"), "vigil:{mrisk}:v1")
        XCTAssertEqual(try connection.send("HLEN", "vigil:{mrisk}:v1").int, 2_501)
        XCTAssertEqual(try ttl("vigil:{mrisk}:v1"), -1, "a served snapshot does not expire")
        let looked = try c.lookup(version: "v1", merchants: ["m-0000000", "m-0002499", "m-0000098", "never-seen"])
        XCTAssertEqual(looked, [totals(merchants), merchants[0].counts, merchants[2499].counts, merchants[98].counts, nil])
        XCTAssertEqual(try connection.send("HGET", "vigil:{mrisk}:v1", "m-0000098").string, "1,2,5,0,0,0")
        XCTAssertNil(try channel(prefix: "other").current(), "prefixes separate deployments")
    }

    func testSwitchingGivesThePreviousVersionAnExpiry() throws {
        let c = channel()
        let first = table(10), second = table(12, salt: 3)
        try c.publish(version: "v1", totals: totals(first), merchants: first)
        let result = try c.publish(version: "v2", totals: totals(second), merchants: second, keepPreviousMs: 300)
        XCTAssertEqual(result.previous, "v1")
        XCTAssertTrue(result.switched)
        XCTAssertEqual(try c.current(), "v2")
        let left = try ttl("vigil:{mrisk}:v1")
        XCTAssertTrue((1...300).contains(left), "the previous version expires: \(left)")
        XCTAssertEqual(try ttl("vigil:{mrisk}:v2"), -1)
        XCTAssertEqual(try c.lookup(version: "v1", merchants: ["m-0000001"])[1], first[1].counts, "still readable meanwhile")
        let deadline = Date().addingTimeInterval(5)
        while try connection.send("EXISTS", "vigil:{mrisk}:v1").int == 1, Date() < deadline { usleep(50_000) }
        XCTAssertEqual(try connection.send("EXISTS", "vigil:{mrisk}:v1").int, 0)
        XCTAssertEqual(try connection.send("HLEN", "vigil:{mrisk}:v2").int, 13)

        // Rolling back to an older table is a publish like any other.
        try c.publish(version: "v1", totals: totals(first), merchants: first, keepPreviousMs: 60_000)
        XCTAssertEqual(try c.current(), "v1")
        XCTAssertEqual(try ttl("vigil:{mrisk}:v1"), -1)
        XCTAssertTrue((1...60_000).contains(try ttl("vigil:{mrisk}:v2")))
    }

    func testPublishingTheCurrentVersionAgainWritesNothing() throws {
        let c = channel()
        let merchants = table(1_200)
        try c.publish(version: "v1", totals: totals(merchants), merchants: merchants)
        // A marker that any write of the table would overwrite.
        XCTAssertEqual(try connection.send("HSET", "vigil:{mrisk}:v1", "m-0000005", "9,9,9,0,0,0").int, 0)
        let before = try XCTUnwrap(connection.send("INFO", "commandstats").string)
        let again = try c.publish(version: "v1", totals: totals(merchants), merchants: merchants)
        XCTAssertEqual(again, MerchantRiskPublication(version: "v1", switched: false, previous: "v1", fields: 0, commands: 0))
        XCTAssertEqual(try connection.send("HGET", "vigil:{mrisk}:v1", "m-0000005").string, "9,9,9,0,0,0")
        let after = try XCTUnwrap(connection.send("INFO", "commandstats").string)
        func calls(_ stats: String, _ command: String) -> String? {
            stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_\(command):") }.map(String.init)
        }
        XCTAssertEqual(calls(before, "evalsha"), calls(after, "evalsha"), "no script ran")
        XCTAssertEqual(try ttl("vigil:{mrisk}:v1"), -1)
    }

    func testAHalfWrittenPublishIsNeverServed() throws {
        let c = channel()
        let old = table(5)
        try c.publish(version: "v1", totals: totals(old), merchants: old)
        // A publisher that dies after its first command: half of the fields are in Redis.
        let merchants = table(2_000)
        let fields = [(MerchantRiskVersion.totalsField, totals(merchants).redisValue)]
            + merchants.prefix(999).map { ($0.merchantId, $0.counts.redisValue) }
        try c.stage(version: "v2", commands: [c.stageCommand(version: "v2", fields: fields)])
        XCTAssertEqual(try connection.send("HLEN", "vigil:{mrisk}:v2").int, 1_000)
        let left = try ttl("vigil:{mrisk}:v2")
        XCTAssertTrue(left > 0 && left <= MerchantRiskChannel.stagingExpiryMs, "a staged snapshot expires: \(left)")
        XCTAssertEqual(try c.current(), "v1", "nothing switched")
        // The switch checks the field count: a half-written hash is refused and nothing changes.
        XCTAssertThrowsError(try c.switchTo(version: "v2", expectedFields: 2_001, keepPreviousMs: 1000)) {
            XCTAssertTrue("\($0)".contains("holds 1000 fields, expected 2001"), "\($0)")
        }
        XCTAssertEqual(try c.current(), "v1")
        XCTAssertEqual(try ttl("vigil:{mrisk}:v1"), -1, "the served snapshot keeps no expiry")
        XCTAssertTrue(try ttl("vigil:{mrisk}:v2") > 0)
        // Publishing it in full afterwards completes the same key and serves it.
        let result = try c.publish(version: "v2", totals: totals(merchants), merchants: merchants)
        XCTAssertTrue(result.switched)
        XCTAssertEqual(try c.current(), "v2")
        XCTAssertEqual(try connection.send("HLEN", "vigil:{mrisk}:v2").int, 2_001)
        XCTAssertEqual(try ttl("vigil:{mrisk}:v2"), -1)
    }

    func testAPublisherWhoseConnectionDiesMidWayLeavesTheServedSnapshotAlone() throws {
        let c = channel()
        let old = table(5)
        try c.publish(version: "v1", totals: totals(old), merchants: old)
        let merchants = table(30_000)
        // Kill the publisher's connection once it has written a part of the table.
        var killed = false
        XCTAssertThrowsError(try c.publish(version: "v2", totals: totals(merchants), merchants: merchants) { written in
            guard !killed, written >= 8_000 else { return }
            killed = true
            _ = try? self.connection.send("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes")
        })
        XCTAssertTrue(killed)
        XCTAssertEqual(try c.current(), "v1")
        let staged = try XCTUnwrap(connection.send("HLEN", "vigil:{mrisk}:v2").int)
        XCTAssertTrue(staged > 0 && staged < 30_001, "\(staged)")
        XCTAssertTrue(try ttl("vigil:{mrisk}:v2") > 0, "the partial key expires")
        // The next run reconnects and completes it.
        XCTAssertTrue(try c.publish(version: "v2", totals: totals(merchants), merchants: merchants).switched)
        XCTAssertEqual(try connection.send("HLEN", "vigil:{mrisk}:v2").int, 30_001)
    }

    func testTheScriptsAreReloadedAfterTheServerForgotThem() throws {
        let c = channel()
        let merchants = table(3)
        try c.publish(version: "v1", totals: totals(merchants), merchants: merchants)
        XCTAssertEqual(try connection.send("SCRIPT", "FLUSH"), .status("OK"))
        XCTAssertTrue(try c.publish(version: "v2", totals: totals(merchants), merchants: merchants).switched)
        XCTAssertEqual(try connection.send("HLEN", "vigil:{mrisk}:v2").int, 4)
    }

    /// What the publisher writes is what the stream's follower and lookup serve: the published version is followed,
    /// and a batch's merchants resolve to the features of their counts and the totals.
    func testTheStreamServesWhatIsPublished() throws {
        let c = channel()
        let merchants = table(1_500)
        try c.publish(version: "v1", totals: totals(merchants), merchants: merchants)
        let follower = MerchantRiskFollower(
            endpoint: RedisEndpoint(host: redis.host, port: redis.port), prefix: "vigil", logger: Logger(label: "test"), stats: PipelineStats())
        follower.poll()
        let served = try XCTUnwrap(follower.current)
        XCTAssertEqual(served.version, "v1")
        XCTAssertEqual(served.hashKey, c.snapshotKey("v1"))
        var lookup = MerchantLookup(served)
        for id in ["m-0000042", "m-0001499", "new-merchant"] { _ = lookup.slot(for: id) }
        let reply = try connection.send(RedisCommand(["HMGET", served.hashKey] + lookup.fields.map { String(decoding: $0, as: UTF8.self) }))
        let resolved = lookup.resolve(reply)
        XCTAssertNil(resolved.problem)
        XCTAssertEqual(resolved.features, [
            MerchantRiskFeatures(merchant: merchants[42].counts, totals: totals(merchants)),
            MerchantRiskFeatures(merchant: merchants[1499].counts, totals: totals(merchants)),
            MerchantRiskFeatures(merchant: .zero, totals: totals(merchants)),
        ])
        // A new version is followed at the next poll.
        let next = table(20, salt: 1)
        try c.publish(version: "v2", totals: totals(next), merchants: next)
        follower.poll()
        XCTAssertEqual(follower.current?.version, "v2")
    }

    func testAnEmptyTableHoldsOnlyTheTotals() throws {
        let c = channel()
        XCTAssertTrue(try c.publish(version: "empty", totals: .zero, merchants: []).switched)
        XCTAssertEqual(try c.lookup(version: "empty", merchants: ["m"]), [.zero, nil])
    }
}
