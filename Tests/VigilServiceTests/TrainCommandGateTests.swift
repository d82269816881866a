import Foundation
import VigilCore
import XCTest

/// `vigil train` as a scheduler sees it: the exit status names the gate condition that kept the serving model, the
/// candidate's file records every check, and the peak memory line is the process's own (docs/retraining.md).
final class TrainCommandGateTests: ScratchDirectoryTestCase {
    func testExitStatusNamesTheConditionThatKeptTheServingModel() throws {
        let features = directory.appendingPathComponent("features.jsonl").path
        let labels = directory.appendingPathComponent("labels.jsonl").path
        let models = directory.appendingPathComponent("models").path
        let active = models + "/active.json"
        let synthetic = try runVigil([
            "train", "--synthesize", "30000", "--features-file", features, "--labels-file", labels, "--seed", "7",
        ])
        XCTAssertEqual(synthetic.status, 0, synthetic.output)

        // First run against the baseline with a margin no model can reach: kept by PR AUC, exit 3, nothing promoted.
        let kept = try runVigil([
            "train", "--features-file", features, "--labels-file", labels, "--output-dir", models, "--promote-to", active,
            "--current", "models/baseline.json", "--min-pr-auc-gain", "1", "--version", "kept-1",
        ])
        XCTAssertEqual(kept.status, 3, kept.output)
        XCTAssertTrue(kept.output.contains("FAIL  pr_auc: "), kept.output)
        XCTAssertTrue(kept.output.contains("NOT PROMOTED: kept by pr_auc: "), kept.output)
        XCTAssertTrue(kept.output.contains("alert_rate: "), "every condition is reported: \(kept.output)")
        XCTAssertTrue(kept.output.contains("block_precision: "), kept.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: active), "a kept candidate is not promoted")
        let candidate = try ModelFile.parse(Data(contentsOf: URL(fileURLWithPath: models + "/candidate-kept-1.json")))
        guard case .object(let training)? = candidate.training, case .object(let promotion)? = training["promotion"] else {
            return XCTFail("no training.promotion in the candidate")
        }
        XCTAssertEqual(promotion["promoted"], .bool(false))
        XCTAssertEqual(promotion["decided_by"], .string("pr_auc"))
        guard case .array(let checks)? = promotion["checks"] else { return XCTFail("no checks") }
        XCTAssertEqual(checks.count, 3)

        // The peak memory line is this process's own high-water mark: a plausible size for a 30,000-record run,
        // not the test runner's (which started it and is far larger after the suite's earlier tests).
        let peak = try XCTUnwrap(kept.output.firstMatch(of: /peak memory (\d+) MB \(this process\)/), kept.output)
        XCTAssertGreaterThan(Int(peak.1)!, 5)
        XCTAssertLessThan(Int(peak.1)!, 400)

        // Without the margin and without a relative alert bound the same history promotes (exit 0) when the other
        // conditions hold; whatever decides, the status and the summary agree.
        let second = try runVigil([
            "train", "--features-file", features, "--labels-file", labels, "--output-dir", models, "--promote-to", active,
            "--current", "models/baseline.json", "--max-alert-growth", "inf", "--version", "second-1",
        ])
        let codes: [Int32: String] = [3: "pr_auc", 4: "alert_rate", 5: "block_precision", 6: "evidence"]
        if second.status == 0 {
            XCTAssertTrue(second.output.contains("\nPROMOTED: "), second.output)
            XCTAssertTrue(FileManager.default.fileExists(atPath: active))
        } else {
            let condition = try XCTUnwrap(codes[second.status], "unexpected status \(second.status): \(second.output)")
            XCTAssertTrue(second.output.contains("NOT PROMOTED: kept by \(condition): "), second.output)
        }
    }

    func testBackfilledRecordsAreReadFirstAndWinOverTheLoggedOnes() throws {
        let features = directory.appendingPathComponent("features.jsonl").path
        let labels = directory.appendingPathComponent("labels.jsonl").path
        let synthetic = try runVigil(["train", "--synthesize", "20000", "--features-file", features, "--labels-file", labels])
        XCTAssertEqual(synthetic.status, 0, synthetic.output)
        let plain = try runVigil(["train", "--features-file", features, "--labels-file", labels, "--dry-run", "--current", "models/baseline.json"])
        let both = try runVigil([
            "train", "--features-file", features, "--backfill-file", features, "--labels-file", labels, "--dry-run",
            "--current", "models/baseline.json",
        ])
        func transactions(_ output: String) throws -> (Int, Int) {
            let m = try XCTUnwrap(output.firstMatch(of: /([\d,]+) duplicates, ([\d,]+) transactions/), output)
            return (Int(m.1.replacingOccurrences(of: ",", with: ""))!, Int(m.2.replacingOccurrences(of: ",", with: ""))!)
        }
        let (plainDuplicates, plainTransactions) = try transactions(plain.output)
        let (bothDuplicates, bothTransactions) = try transactions(both.output)
        XCTAssertEqual(bothTransactions, plainTransactions, "the same transactions")
        XCTAssertEqual(bothDuplicates, plainDuplicates + 20000, "every logged record is a duplicate of its backfilled one")
        XCTAssertTrue(both.output.contains("file:\(features) + file:\(features)"), both.output)
    }

    func testAMaxAlertGrowthBelowOneIsRefused() throws {
        let result = try runVigil(["train", "--max-alert-growth", "0.5", "--features-file", "/dev/null", "--labels-file", "/dev/null"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.output.contains("max alert growth must be >= 1"), result.output)
    }
}
