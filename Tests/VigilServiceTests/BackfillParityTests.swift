import Foundation
import Kafka
import VigilCore
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

    func testBackfillRefusesToWriteToTheServicesTopics() throws {
        let result = try runVigil(["backfill", "--out-topic", "fraud.features"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("is one of the service's topics"), result.output)
        let neither = try runVigil(["backfill"])
        XCTAssertNotEqual(neither.status, 0)
        XCTAssertTrue(neither.output.contains("give exactly one of --out FILE and --out-topic TOPIC"), neither.output)
    }
}
