import Foundation
import Kafka
import VigilCore
import VigilTraffic
import XCTest

/// `vigil backfill` against `vigil serve` on the same history (issue 14, "replay parity"): the real binary serves a
/// 3-partition topic with out-of-order, late and malformed records, then `vigil backfill` replays the topic; every
/// feature record the service logged comes out identical, byte for byte, and nothing else does.
final class BackfillParityTests: ScratchDirectoryTestCase {
    func testBackfilledRecordsAreIdenticalToWhatServeLogged() throws {
        let h = try Harness(partitions: 3)
        h.config.mode = .atLeastOnce
        let input = traffic(count: 4000, seed: 31)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "backfill-serve")
        XCTAssertTrue(h.waitForApplied(input.count), "serve did not finish: \(vigil.log.suffix(2000))")
        XCTAssertNotNil(vigil.terminate())
        let logged = try h.readAll(h.config.topics.features)
        let late = try h.readAll(h.config.topics.late).count
        let dlq = try h.readAll(h.config.topics.dlq).count
        XCTAssertGreaterThan(late, 0, "the history has late records")
        XCTAssertGreaterThan(dlq, 0, "the history has dead-lettered records")
        XCTAssertEqual(logged.count + late + dlq, input.count, "every input once")

        let out = directory.appendingPathComponent("backfill.jsonl").path
        let run = try runVigil(["backfill", "--brokers", h.config.brokers, "--model", h.config.modelPath, "--out", out])
        XCTAssertEqual(run.status, 0, run.output)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }

        var servedById: [String: [UInt8]] = [:]
        for message in logged { servedById[String(decoding: message.key ?? [], as: UTF8.self)] = message.value }
        XCTAssertEqual(servedById.count, logged.count, "one feature record per transaction")
        XCTAssertEqual(lines.count, logged.count, run.output)
        var mismatches = 0
        for line in lines {
            guard let fields = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let id = fields["transaction_id"] as? String
            else {
                XCTFail("not a feature record: \(String(decoding: line, as: UTF8.self))")
                continue
            }
            guard let served = servedById.removeValue(forKey: id) else {
                XCTFail("\(id): backfilled but never logged by serve")
                continue
            }
            if served != line {
                mismatches += 1
                if mismatches <= 3 {
                    XCTFail("\(id) differs:\n  serve    \(String(decoding: served, as: UTF8.self))\n  backfill \(String(decoding: line, as: UTF8.self))")
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
        XCTAssertTrue(servedById.isEmpty, "logged by serve but not backfilled: \(servedById.keys.prefix(5))")
        XCTAssertTrue(run.output.contains("late             \(late) "), run.output)
        XCTAssertTrue(run.output.contains("refused          \(dlq)"), run.output)
    }

    /// Catalog 2 with a real merchant-risk snapshot: `vigil merchant-risk` computes it from an earlier history and
    /// its labels and publishes it; serve scores the new traffic with it; backfill, given the same table file, names
    /// the same snapshot and computes the same merchant features for every record.
    func testMerchantFeaturesFromTheServedSnapshotAreReproduced() throws {
        let h = try Harness(partitions: 2)
        h.config.mode = .atLeastOnce
        let cutMs: Int64 = 1_764_000_000_000
        // The earlier history: 20 days before the cut, the same merchants (same generator profile).
        var profile = TrafficProfile()
        profile.cards = 60
        profile.seed = 51
        profile.fraudCardFraction = 0.2
        profile.malformedFraction = 0
        profile.lateFraction = 0
        var earlier = TrafficGenerator(profile: profile)
        var history: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<3000 {
            let m = earlier.next(nowMs: cutMs - 20 * 86_400_000 + Int64(i) * 400_000)
            history += m.value + [0x0A]
            if let truth = m.truth, truth.isFraud {
                labels += TrafficGenerator.labelJSON(for: truth, reportedAtMs: truth.eventTimeMs + 3_600_000) + [0x0A]
            }
        }
        let historyPath = directory.appendingPathComponent("history.jsonl").path
        let labelsPath = directory.appendingPathComponent("labels.jsonl").path
        let table = directory.appendingPathComponent("merchant-risk.jsonl").path
        try Data(history).write(to: URL(fileURLWithPath: historyPath))
        try Data(labels).write(to: URL(fileURLWithPath: labelsPath))
        let risk = try runVigil([
            "merchant-risk", "--transactions-file", historyPath, "--labels-file", labelsPath, "--cut", String(cutMs),
            "--label-delay-days", "1", "--out", table, "--publish", "--redis", h.config.redisEndpoint.address,
            "--redis-prefix", h.config.redisPrefix,
        ])
        XCTAssertEqual(risk.status, 0, risk.output)

        profile.seed = 52
        profile.malformedFraction = 0.02
        profile.lateFraction = 0.01
        var later = TrafficGenerator(profile: profile)
        let input = (0..<2500).map { i in
            let m = later.next(nowMs: cutMs + 3_600_000 + Int64(i) * 20_000)
            return (key: m.key, value: m.value)
        }
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "backfill-merchant-serve")
        XCTAssertTrue(h.waitForApplied(input.count), "serve did not finish: \(vigil.log.suffix(2000))")
        XCTAssertNotNil(vigil.terminate())
        let logged = try h.readAll(h.config.topics.features)

        let out = directory.appendingPathComponent("backfill.jsonl").path
        let run = try runVigil([
            "backfill", "--brokers", h.config.brokers, "--model", h.config.modelPath, "--out", out,
            "--merchant-risk-table", table,
        ])
        XCTAssertEqual(run.status, 0, run.output)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
        XCTAssertEqual(lines.count, logged.count, run.output)
        XCTAssertEqual(Set(lines), Set(logged.map(\.value)), "backfilled records are the logged ones, byte for byte")
        // The records carry the snapshot's version and non-default merchant features.
        let versions = Set(lines.compactMap { line -> String? in
            (try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])?["merchant_risk_version"] as? String
        })
        XCTAssertEqual(versions.count, 1, "\(versions)")
        XCTAssertNotEqual(versions.first, "none")
        XCTAssertTrue(run.output.contains("\(logged.count) with a merchant-risk snapshot"), run.output)
    }

    func testBackfillRefusesToWriteToTheServicesTopics() throws {
        let result = try runVigil(["backfill", "--out-topic", "fraud.features"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("is one of the service's topics"), result.output)
        let neither = try runVigil(["backfill"])
        XCTAssertNotEqual(neither.status, 0)
        XCTAssertTrue(neither.output.contains("give exactly one of --out FILE and --out-topic TOPIC"), neither.output)
    }
}
