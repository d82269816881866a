import Foundation
import Kafka
import VigilCore
import VigilTraffic
import VigilTraining
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

        // --done-marker: a second run for the same catalog does nothing; a catalog change replays again.
        let marker = directory.appendingPathComponent("backfill-catalog").path
        let again = directory.appendingPathComponent("again.jsonl").path
        let common = ["backfill", "--brokers", h.config.brokers, "--model", h.config.modelPath, "--done-marker", marker]
        let first = try runVigil(common + ["--out", again])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(try String(contentsOfFile: marker, encoding: .utf8).hasPrefix("catalog 2\n"))
        try FileManager.default.removeItem(atPath: again)
        let second = try runVigil(common + ["--out", again])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("nothing to do"), second.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: again), "nothing written")
        let changed = try runVigil(common + ["--out", again, "--feature-catalog", "1"])
        XCTAssertEqual(changed.status, 0, changed.output)
        XCTAssertTrue(changed.output.contains("feature records  \(logged.count) written"), changed.output)
        XCTAssertTrue(try String(contentsOfFile: marker, encoding: .utf8).hasPrefix("catalog 1\n"))
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

    /// Snapshots rebuilt from the labels: every record names the snapshot of the last daily cut before it, and that
    /// snapshot is exactly what the merchant-risk job computes at that cut (labels reported before it only).
    func testRebuiltSnapshotsAreThoseTheDailyJobWouldHaveServed() throws {
        let day: Int64 = 86_400_000
        let startMs: Int64 = 1_763_942_400_000 + 5 * 3_600_000  // 2025-11-24T05:00Z
        var profile = TrafficProfile()
        profile.cards = 50
        profile.seed = 61
        profile.fraudCardFraction = 0.2
        profile.malformedFraction = 0
        profile.lateFraction = 0
        var generator = TrafficGenerator(profile: profile)
        var history: [UInt8] = [], labels: [UInt8] = []
        for i in 0..<2000 {
            let m = generator.next(nowMs: startMs + Int64(i) * 300_000)  // about 7 days
            history += m.value + [0x0A]
            if let truth = m.truth, truth.isFraud {
                // Reported two days later: a cut counts a fraud only once its label was reported before the cut.
                labels += TrafficGenerator.labelJSON(for: truth, reportedAtMs: truth.eventTimeMs + 2 * day) + [0x0A]
            }
        }
        let historyPath = directory.appendingPathComponent("history.jsonl").path
        let labelsPath = directory.appendingPathComponent("labels.jsonl").path
        try Data(history).write(to: URL(fileURLWithPath: historyPath))
        try Data(labels).write(to: URL(fileURLWithPath: labelsPath))
        let out = directory.appendingPathComponent("backfill.jsonl").path
        let run = try runVigil([
            "backfill", "--transactions-file", historyPath, "--out", out, "--model", "models/baseline.json",
            "--rebuild-merchant-risk-labels-file", labelsPath, "--merchant-risk-label-delay-days", "0",
        ])
        XCTAssertEqual(run.status, 0, run.output)
        var expected: [Int64: String] = [:]
        func version(at cutMs: Int64) throws -> String {
            if let v = expected[cutMs] { return v }
            let v = try MerchantRiskJob(cut: MerchantRiskCut(cutMs: cutMs, labelDelayMs: 0))
                .run(transactions: [JSONLinesFile(path: historyPath)], labels: [JSONLinesFile(path: labelsPath)]).snapshot.version
            expected[cutMs] = v
            return v
        }
        var checked = 0, none = 0
        for line in try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n") {
            let fields = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let eventMs = try XCTUnwrap(fields["event_time_ms"] as? Int64 ?? (fields["event_time_ms"] as? NSNumber)?.int64Value)
            let served = try XCTUnwrap(fields["merchant_risk_version"] as? String)
            let cut = eventMs / day * day
            if cut <= startMs {
                XCTAssertEqual(served, "none", "before the first cut nothing was served")
                none += 1
            } else {
                XCTAssertEqual(served, try version(at: cut), "event \(eventMs)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(none, 100, run.output)
        XCTAssertGreaterThan(checked, 1000)
        XCTAssertGreaterThanOrEqual(expected.count, 6, "one snapshot per day")
        XCTAssertEqual(Set(expected.values).count, expected.count, "every cut's table differs (new transactions, new labels)")
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
