import Foundation
import Kafka
import Redis
import VigilCore
import VigilService
import VigilTraffic
import VigilTraining
import XCTest

/// `vigil merchant-risk` as a real process: history from Kafka (librdkafka's mock cluster), the table to a file and
/// to a real redis-server, compared with the definition computed plainly here.
final class MerchantRiskCommandTests: XCTestCase {
    static let startMs: Int64 = 1_795_000_000_000
    static let stepMs: Int64 = 30_000

    func testTheJobReadsKafkaWritesTheTableAndPublishesIt() throws {
        let h = try Harness(partitions: 2)
        try h.cluster.createTopic("fraud.labels", partitions: 2)
        var profile = TrafficProfile()
        profile.cards = 500
        profile.seed = 21
        profile.fraudCardFraction = 0.1
        profile.malformedFraction = 0
        profile.lateFraction = 0
        var generator = TrafficGenerator(profile: profile)
        let messages = (0..<4000).map { generator.next(nowMs: Self.startMs + Int64($0) * Self.stepMs) }
        let lastEvent = messages.compactMap { $0.truth?.eventTimeMs }.max()!
        // The cut a label delay after the last payment and 12 hours more, so the 1-day window holds the last half day.
        let delay: Int64 = 7 * 86_400_000
        let cut = lastEvent + delay + 43_200_000
        let late = messages.compactMap(\.truth).filter(\.isFraud).prefix(5).map(\.transactionId)

        // Two bad records among the transactions, and one redelivered transaction.
        var values = messages.map { (key: $0.key, value: $0.value) }
        values.append((key: Array("card-x".utf8), value: Array("{not json".utf8)))
        values.append((key: Array("card-x".utf8), value: Array("{\"schema_version\":1,\"transaction_id\":\"tx-bad\",\"event_time_ms\":1}".utf8)))
        values.append(values[17])
        try h.publish(values)
        let producer = try KafkaProducer(config: ["bootstrap.servers": h.cluster.bootstrapServers, "linger.ms": "5"])
        for truth in messages.compactMap(\.truth) where truth.isFraud {
            // Five chargebacks arrive only at the cut: they must not count.
            let reported = late.contains(truth.transactionId) ? cut : truth.eventTimeMs + 3_600_000
            try producer.produce(topic: "fraud.labels", key: Array(truth.transactionId.utf8),
                                 value: TrafficGenerator.labelJSON(for: truth, reportedAtMs: reported))
        }
        XCTAssertEqual(try producer.flush(timeoutMs: 20_000).failed, 0)

        // The definition, plainly.
        var expected: [String: [Int64]] = [:]
        let fraud = Set(messages.compactMap(\.truth).filter { $0.isFraud && !late.contains($0.transactionId) }.map(\.transactionId))
        for m in messages {
            guard case .success(let tx) = TransactionDecoder.decode(value: m.value, key: m.key) else { return XCTFail("undecodable") }
            guard tx.eventTimeMs >= cut - delay - 30 * 86_400_000, tx.eventTimeMs < cut - delay else { continue }
            var row = expected[tx.merchantId] ?? [0, 0, 0, 0, 0, 0]
            for (w, days) in [1, 7, 30].enumerated() where tx.eventTimeMs >= cut - delay - Int64(days) * 86_400_000 {
                row[w] += 1
                if fraud.contains(tx.transactionId) { row[3 + w] += 1 }
            }
            expected[tx.merchantId] = row
        }
        XCTAssertGreaterThan(expected.values.reduce(0) { $0 + $1[3] }, 0, "the 1-day window holds frauds")
        XCTAssertLessThan(expected.values.reduce(0) { $0 + $1[0] }, expected.values.reduce(0) { $0 + $1[2] })

        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mrisk-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let redis = "\(h.redis.host):\(h.redis.port)"
        let arguments = [
            "merchant-risk", "--brokers", h.cluster.bootstrapServers, "--transactions-topic", "transactions",
            "--cut", String(cut), "--out", out, "--publish", "--redis", redis, "--redis-prefix", "e2e",
        ]
        let run = try runVigil(arguments)
        XCTAssertEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("4,003 records, 2 bad"), run.output)
        XCTAssertTrue(run.output.contains("1 not a JSON object"), run.output)
        XCTAssertTrue(run.output.contains("1 missing merchant_id"), run.output)
        XCTAssertTrue(run.output.contains("e.g. kafka:transactions"), run.output)
        XCTAssertTrue(run.output.contains("5 labels reported at or after the cut not used"), run.output)
        XCTAssertTrue(run.output.contains("1 duplicates"), run.output)
        XCTAssertTrue(run.output.contains("peak memory"), run.output)

        // The file and Redis hold the definition's table, under one version.
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let version = try XCTUnwrap(header["version"] as? String)
        XCTAssertEqual(lines.count, expected.count + 1)
        let connection = try RedisConnection(host: h.redis.host, port: h.redis.port)
        defer { connection.close() }
        XCTAssertEqual(try connection.send("GET", "e2e:{mrisk}:current").string, version)
        XCTAssertEqual(try connection.send("HLEN", "e2e:{mrisk}:\(version)").int, Int64(expected.count + 1))
        XCTAssertEqual(try connection.send("PTTL", "e2e:{mrisk}:\(version)").int, -1)
        for (merchant, row) in expected {
            XCTAssertEqual(try connection.send("HGET", "e2e:{mrisk}:\(version)", merchant).string, row.map(String.init).joined(separator: ","), merchant)
        }
        let totals = expected.values.reduce([Int64](repeating: 0, count: 6)) { zip($0, $1).map(+) }
        XCTAssertEqual(try connection.send("HGET", "e2e:{mrisk}:\(version)", "").string, totals.map(String.init).joined(separator: ","))
        XCTAssertTrue(run.output.contains("switched e2e:{mrisk}:current from none"), run.output)

        // The same run again changes nothing; the file can be published again by itself.
        let again = try runVigil(arguments)
        XCTAssertEqual(again.status, 0, again.output)
        XCTAssertTrue(again.output.contains("\(version) is already current"), again.output)
        let fromTable = try runVigil(["merchant-risk", "--table", out, "--publish", "--redis", redis, "--redis-prefix", "other"])
        XCTAssertEqual(fromTable.status, 0, fromTable.output)
        XCTAssertEqual(try connection.send("GET", "other:{mrisk}:current").string, version)
    }

    func testATableAsOfACutStillToComeIsNotPublished() throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("mrisk-empty-\(UUID().uuidString).jsonl").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let tomorrow = Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000
        let run = try runVigil(["merchant-risk", "--transactions-file", empty, "--labels-file", empty, "--cut", String(tomorrow),
                                "--publish", "--redis", "\(redis.host):\(redis.port)"])
        XCTAssertNotEqual(run.status, 0, run.output)
        XCTAssertTrue(run.output.contains("is in the future"), run.output)
        let connection = try RedisConnection(host: redis.host, port: redis.port)
        defer { connection.close() }
        XCTAssertEqual(try connection.send("EXISTS", "vigil:{mrisk}:current").int, 0)
        // The same table may be computed and written, just not served.
        let out = empty + ".table"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let written = try runVigil(["merchant-risk", "--transactions-file", empty, "--labels-file", empty, "--cut", String(tomorrow), "--out", out])
        XCTAssertEqual(written.status, 0, written.output)
    }

    func testBadFlagsAndAnUnreachableRedisFailBeforeAnyWork() throws {
        let bad = try runVigil(["merchant-risk", "--cut", "yesterday", "--transactions-file", "/nonexistent"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.output.contains("--cut must be"), bad.output)
        let missing = try runVigil(["merchant-risk", "--transactions-file", "/nonexistent/tx.jsonl", "--labels-file", "/nonexistent/l.jsonl", "--cut", "2026-11-24"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.output.contains("/nonexistent/l.jsonl"), missing.output)
        // Port 1 on loopback: nothing listens.
        let unreachable = try runVigil(["merchant-risk", "--transactions-file", "/nonexistent/tx.jsonl", "--labels-file", "/nonexistent/l.jsonl",
                                        "--publish", "--redis", "127.0.0.1:1"])
        XCTAssertNotEqual(unreachable.status, 0)
        XCTAssertTrue(unreachable.output.contains("redis 127.0.0.1:1 cannot be read"), unreachable.output)
        XCTAssertFalse(unreachable.output.contains("reading labels"), "Redis is checked before the history is read")
    }
}
