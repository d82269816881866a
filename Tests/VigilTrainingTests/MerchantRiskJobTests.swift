import Foundation
import VigilCore
import XCTest
@testable import VigilTraining

/// The merchant-risk job (docs/merchant-risk.md): point-in-time correctness on crafted histories, and the job
/// against a literal reference on random ones.
final class MerchantRiskJobTests: XCTestCase {
    // T = 2026-11-24T00:00:00Z, D = 7 days.
    let cut = MerchantRiskCut(cutMs: 1_795_478_400_000, labelDelayMs: 7 * dayMs)
    var end: Int64 { cut.windowEndMs }

    func transactionLine(_ id: String, merchant: String, at time: Int64) -> String {
        "{\"schema_version\":1,\"transaction_id\":\"\(id)\",\"card_id\":\"card-1\",\"amount_minor\":100,\"currency\":\"EUR\","
            + "\"merchant_id\":\"\(merchant)\",\"mcc\":\"5411\",\"country\":\"DE\",\"channel\":\"pos\",\"event_time_ms\":\(time)}"
    }

    func run(_ transactions: [String], _ labels: [String], cut: MerchantRiskCut? = nil) throws -> MerchantRiskOutcome {
        try MerchantRiskJob(cut: cut ?? self.cut).run(
            transactions: [MemorySource(lines: transactions, name: "tx")], labels: [MemorySource(lines: labels, name: "labels")])
    }

    // MARK: - Point in time

    func testALabelReportedOneMillisecondAfterTheCutDoesNotCountOneBeforeDoes() throws {
        let tx = [transactionLine("a", merchant: "m", at: end - 1000), transactionLine("b", merchant: "m", at: end - 2000)]
        let labels = [labelLine(id: "a", fraud: true, reportedAtMs: cut.cutMs + 1),
                      labelLine(id: "b", fraud: true, reportedAtMs: cut.cutMs - 1)]
        let outcome = try run(tx, labels)
        XCTAssertEqual(outcome.snapshot.counts(of: "m"), MerchantRiskCounts(
            transactions1d: 2, transactions7d: 2, transactions30d: 2, frauds1d: 1, frauds7d: 1, frauds30d: 1))
        XCTAssertEqual(outcome.report.labelsReportedAtOrAfterCut, 1)
        // Exactly at the cut does not count either.
        let atCut = try run(tx, [labelLine(id: "a", fraud: true, reportedAtMs: cut.cutMs)])
        XCTAssertEqual(atCut.snapshot.totals.frauds30d, 0)
    }

    func testWindowsAreHalfOpenAndEndALabelDelayBeforeTheCut() throws {
        let day = dayMs
        let tx = [
            transactionLine("at-end", merchant: "m", at: end),  // T - D: in no window
            transactionLine("last-ms", merchant: "m", at: end - 1),  // in all three
            transactionLine("1d-start", merchant: "m", at: end - day),  // in all three
            transactionLine("before-1d", merchant: "m", at: end - day - 1),  // 7d and 30d
            transactionLine("7d-start", merchant: "m", at: end - 7 * day),  // 7d and 30d
            transactionLine("before-7d", merchant: "m", at: end - 7 * day - 1),  // 30d
            transactionLine("30d-start", merchant: "m", at: end - 30 * day),  // 30d
            transactionLine("before-30d", merchant: "m", at: end - 30 * day - 1),  // none
            transactionLine("after-cut", merchant: "m", at: cut.cutMs + 1),  // none
        ]
        let outcome = try run(tx, [])
        XCTAssertEqual(outcome.snapshot.counts(of: "m"), MerchantRiskCounts(transactions1d: 2, transactions7d: 4, transactions30d: 6))
        XCTAssertEqual(outcome.report.outsideWindow, 3)
        XCTAssertEqual(outcome.report.transactionsCounted, 6)

        // The same boundaries for frauds: every transaction labelled fraud before the cut.
        let fraudLabels = ["at-end", "last-ms", "1d-start", "before-1d", "7d-start", "before-7d", "30d-start", "before-30d", "after-cut"]
            .map { labelLine(id: $0, fraud: true, reportedAtMs: cut.cutMs - 1) }
        let withFraud = try run(tx, fraudLabels)
        XCTAssertEqual(withFraud.snapshot.counts(of: "m"), MerchantRiskCounts(
            transactions1d: 2, transactions7d: 4, transactions30d: 6, frauds1d: 2, frauds7d: 4, frauds30d: 6))
    }

    func testALaterNonFraudLabelOverridesAFraudLabelOnlyIfReportedBeforeTheCut() throws {
        let tx = [transactionLine("reversed", merchant: "m", at: end - 1000), transactionLine("reversed-late", merchant: "m", at: end - 1000),
                  transactionLine("confirmed", merchant: "m", at: end - 1000)]
        let labels = [
            labelLine(id: "reversed", fraud: true, reportedAtMs: cut.cutMs - 100),
            labelLine(id: "reversed", fraud: false, reportedAtMs: cut.cutMs - 50),  // before T: overrides
            labelLine(id: "reversed-late", fraud: true, reportedAtMs: cut.cutMs - 100),
            labelLine(id: "reversed-late", fraud: false, reportedAtMs: cut.cutMs),  // at T: does not
            labelLine(id: "confirmed", fraud: false, reportedAtMs: cut.cutMs - 100),
            labelLine(id: "confirmed", fraud: true, reportedAtMs: cut.cutMs - 50),  // the latest before T is fraud
        ]
        // Whatever order the labels are read in.
        for order in [labels, labels.reversed(), [labels[1], labels[4], labels[3], labels[0], labels[5], labels[2]]] {
            let outcome = try run(tx, Array(order))
            XCTAssertEqual(outcome.snapshot.totals.frauds30d, 2, "\(order)")
            XCTAssertEqual(outcome.report.fraudLabels, 2)
        }
        // At equal report times a fraud label wins, as in LabelBook.
        let tie = try run(tx, [labelLine(id: "reversed", fraud: false, reportedAtMs: 5), labelLine(id: "reversed", fraud: true, reportedAtMs: 5)])
        XCTAssertEqual(tie.snapshot.totals.frauds30d, 1)
    }

    func testDuplicateDeliveriesAreCountedOnce() throws {
        let line = transactionLine("a", merchant: "m", at: end - 1000)
        let outcome = try run([line, line, transactionLine("b", merchant: "m", at: end - 10), line],
                              [labelLine(id: "a", fraud: true, reportedAtMs: 0), labelLine(id: "a", fraud: true, reportedAtMs: 0)])
        XCTAssertEqual(outcome.snapshot.counts(of: "m"), MerchantRiskCounts(
            transactions1d: 2, transactions7d: 2, transactions30d: 2, frauds1d: 1, frauds7d: 1, frauds30d: 1))
        XCTAssertEqual(outcome.report.duplicates, 2)
        // A feature record (schema 2) and the transaction message it came from are one transaction.
        let feature = "{\"schema_version\":2,\"catalog_version\":2,\"transaction_id\":\"a\",\"card_id\":\"card-1\",\"merchant_id\":\"m\","
            + "\"merchant_risk_version\":\"none\",\"event_time_ms\":\(end - 1000),\"features\":{\"amount\":1,\"count_7d\":3}}"
        let both = try MerchantRiskJob(cut: cut).run(
            transactions: [MemorySource(lines: [line]), MemorySource(lines: [feature])], labels: [])
        XCTAssertEqual(both.snapshot.totals.transactions30d, 1)
        XCTAssertEqual(both.report.duplicates, 1)
    }

    // MARK: - Records

    func testTransactionBearingRecords() throws {
        let v2 = "{\"schema_version\":2,\"transaction_id\":\"tx\\u002d1\",\"merchant_id\":\"m\\\"x\",\"event_time_ms\":7,\"features\":{\"a\":[1,{\"b\":2}]}}"
        XCTAssertEqual(try MerchantTransaction.parse(Array(v2.utf8)),
                       MerchantTransaction(transactionId: "tx-1", merchantId: "m\"x", eventTimeMs: 7))
        func reason(_ line: String) -> String {
            do throws(RecordError) { _ = try MerchantTransaction.parse(Array(line.utf8)); return "accepted" } catch { return error.description }
        }
        XCTAssertEqual(reason(featureLine(id: "v1", timeMs: 5)), "missing merchant_id", "a v1 feature record has no merchant")
        XCTAssertEqual(reason("{\"schema_version\":3,\"transaction_id\":\"a\",\"merchant_id\":\"m\",\"event_time_ms\":1}"), "unsupported schema_version")
        XCTAssertEqual(reason("{\"transaction_id\":\"a\",\"merchant_id\":\"m\",\"event_time_ms\":1}"), "missing schema_version")
        XCTAssertEqual(reason("{\"schema_version\":1,\"transaction_id\":\"a\",\"merchant_id\":\"\",\"event_time_ms\":1}"), "merchant_id is not 1-64 bytes")
        XCTAssertEqual(reason("{\"schema_version\":1,\"transaction_id\":\"a\",\"merchant_id\":\"m\",\"event_time_ms\":1.5}"), "event_time_ms is not an integer")
        XCTAssertEqual(reason("{\"schema_version\":1,\"transaction_id\":7,\"merchant_id\":\"m\",\"event_time_ms\":1}"), "wrong type of transaction_id")
        XCTAssertEqual(reason("{\"schema_version\":1,\"transaction_id\":\"a\",\"merchant_id\":\"m\"}"), "missing event_time_ms")
        XCTAssertEqual(reason("{\"schema_version\":1,\"transaction_id\":\"a\",\"merchant_id\":\"m\",\"event_time_ms\":1} x"), "not a JSON object")
    }

    func testBadRecordsAreCountedAndNamedByFileAndLine() throws {
        let txPath = temporaryPath("mrisk-tx.jsonl"), labelPath = temporaryPath("mrisk-labels.jsonl")
        try ([transactionLine("a", merchant: "m", at: end - 1), "{oops", featureLine(id: "v1", timeMs: end - 1),
              transactionLine("b", merchant: "m", at: end - 1)].joined(separator: "\n") + "\n").write(toFile: txPath, atomically: true, encoding: .utf8)
        try ([labelLine(id: "a", fraud: true, reportedAtMs: 1), "{\"schema_version\":1,\"transaction_id\":\"b\",\"is_fraud\":true}"]
            .joined(separator: "\n")).write(toFile: labelPath, atomically: true, encoding: .utf8)
        let outcome = try MerchantRiskJob(cut: cut).run(transactions: [JSONLinesFile(path: txPath)], labels: [JSONLinesFile(path: labelPath)])
        let tally = outcome.report.transactionSources[0].tally
        XCTAssertEqual(tally.read, 4)
        XCTAssertEqual(tally.bad, ["not a JSON object": 1, "missing merchant_id": 1])
        XCTAssertEqual(tally.examples, ["line 2: not a JSON object", "line 3: missing merchant_id"])
        XCTAssertEqual(outcome.report.labelSources[0].tally.bad, ["missing reported_at_ms": 1], "a label without a report time cannot be placed before the cut")
        XCTAssertEqual(outcome.report.badRecords, 3)
        XCTAssertEqual(outcome.snapshot.counts(of: "m").transactions30d, 2)
        XCTAssertEqual(outcome.snapshot.counts(of: "m").frauds30d, 1)
        let summary = outcome.report.summary(snapshot: outcome.snapshot)
        XCTAssertTrue(summary.contains("e.g. file:\(txPath) line 2: not a JSON object"), summary)
        XCTAssertTrue(summary.contains("WARNING      3 bad records"), summary)
        // A file that cannot be read stops the run, naming it.
        XCTAssertThrowsError(try MerchantRiskJob(cut: cut).run(transactions: [JSONLinesFile(path: "/nonexistent/tx")], labels: [])) {
            XCTAssertTrue("\($0)".contains("/nonexistent/tx"), "\($0)")
        }
    }

    // MARK: - Snapshot

    func testVersionNamesTheContentWhateverTheReadOrder() throws {
        let tx = (0..<50).map { transactionLine("t\($0)", merchant: "m\($0 % 7)", at: end - Int64($0) * 3_600_000) }
        let labels = (0..<50).filter { $0 % 5 == 0 }.map { labelLine(id: "t\($0)", fraud: true, reportedAtMs: 1) }
        let a = try run(tx, labels), b = try run(tx.reversed(), labels.reversed())
        XCTAssertEqual(a.snapshot, b.snapshot)
        XCTAssertEqual(a.snapshot.version, b.snapshot.version)
        XCTAssertTrue(a.snapshot.version.hasPrefix("2026-11-24T00-00-00Z-"), a.snapshot.version)
        XCTAssertEqual(a.snapshot.version.count, "2026-11-24T00-00-00Z-".count + 12)
        XCTAssertEqual(a.snapshot.merchants.map(\.merchantId), (0..<7).map { "m\($0)" })
        let changed = try run(tx, Array(labels.dropLast()))
        XCTAssertNotEqual(changed.snapshot.version, a.snapshot.version, "one fraud less is another table")
        let otherDelay = try run(tx, labels, cut: MerchantRiskCut(cutMs: cut.cutMs, labelDelayMs: cut.labelDelayMs + 1))
        XCTAssertNotEqual(otherDelay.snapshot.version, a.snapshot.version)
    }

    func testJSONLinesFile() throws {
        let outcome = try run([transactionLine("a", merchant: "m\\\"1", at: end - 1)], [labelLine(id: "a", fraud: true, reportedAtMs: 3)])
        var lines: [String] = []
        outcome.snapshot.forEachLine { lines.append(String(decoding: $0, as: UTF8.self)) }
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(lines[1], "{\"merchant_id\":\"m\\\"1\",\"tx_1d\":1,\"tx_7d\":1,\"tx_30d\":1,\"fraud_1d\":1,\"fraud_7d\":1,\"fraud_30d\":1}")
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(header["version"] as? String, outcome.snapshot.version)
        XCTAssertEqual(header["cut_ms"] as? Int64, cut.cutMs)
        XCTAssertEqual(header["window_end_ms"] as? Int64, end)
        XCTAssertEqual(header["merchants"] as? Int, 1)
        XCTAssertEqual((header["totals"] as? [String: Int])?["fraud_30d"], 1)
    }

    func testATableFileReadsBackAndAnEditedOneIsRefused() throws {
        let tx = (0..<40).map { transactionLine("t\($0)", merchant: "m\($0 % 9)", at: end - Int64($0) * 3_600_000) }
        let snapshot = try run(tx, [labelLine(id: "t3", fraud: true, reportedAtMs: 1)]).snapshot
        var lines: [String] = []
        snapshot.forEachLine { lines.append(String(decoding: $0, as: UTF8.self)) }
        enum Outcome { case success(MerchantRiskSnapshot), failure(String) }
        func read(_ lines: [String]) -> Outcome {
            do { return .success(try MerchantRiskSnapshot.read(from: MemorySource(lines: lines))) } catch { return .failure("\(error)") }
        }
        guard case .success(let back) = read(lines) else { return XCTFail("the table does not read back") }
        XCTAssertEqual(back, snapshot)
        let edited = lines.map { $0.replacingOccurrences(of: "\"tx_30d\":5,", with: "\"tx_30d\":6,") }
        XCTAssertNotEqual(edited, lines)
        guard case .failure(let why) = read(edited) else { return XCTFail("an edited table was accepted") }
        XCTAssertTrue(why.contains("the file was changed or cut short"), why)
        guard case .failure(let short) = read(Array(lines.dropLast())) else { return XCTFail("a truncated table was accepted") }
        XCTAssertTrue(short.contains("announces 9 merchants, the file has 8"), short)
        guard case .failure(let order) = read([lines[0], lines[2], lines[1]] + lines[3...]) else { return XCTFail("out of order") }
        XCTAssertTrue(order.contains("line 3: merchants out of order"), order)
        guard case .failure(let bad) = read([lines[0], "{\"merchant_id\":\"x\",\"tx_1d\":1}"]) else { return XCTFail("bad line") }
        XCTAssertTrue(bad.contains("line 2: missing tx_7d"), bad)
    }

    func testCutTimes() {
        XCTAssertEqual(MerchantRiskCut.parseTime("2026-11-24"), 1_795_478_400_000)
        XCTAssertEqual(MerchantRiskCut.parseTime("2026-11-24T00:00:00Z"), 1_795_478_400_000)
        XCTAssertEqual(MerchantRiskCut.parseTime("2026-11-24T02-30-05Z"), 1_795_478_400_000 + 9_005_000)
        XCTAssertEqual(MerchantRiskCut.parseTime("2026-11-24T02:30Z"), 1_795_478_400_000 + 9_000_000)
        XCTAssertEqual(MerchantRiskCut.parseTime("2026-11-24T02:30:05.250Z"), 1_795_478_400_000 + 9_005_250)
        XCTAssertEqual(MerchantRiskCut.parseTime("1795478400000"), 1_795_478_400_000)
        XCTAssertEqual(MerchantRiskCut.parseTime("1970-01-01"), 0)
        XCTAssertEqual(MerchantRiskCut.parseTime("2024-02-29T00:00:00Z"), 1_709_164_800_000)
        for bad in ["2026-13-01", "2026-11-24T25:00:00Z", "2026-11-24T02:30:05", "yesterday", "2026-11-24T02:30:05.2Z", ""] {
            XCTAssertNil(MerchantRiskCut.parseTime(bad), bad)
        }
        for ms: Int64 in [0, 1_795_478_400_000, 1_795_478_400_000 + 86_399_000, 951_782_400_000] {
            XCTAssertEqual(MerchantRiskCut.parseTime(UTCTime.iso(ms)), ms)
            XCTAssertEqual(MerchantRiskCut.parseTime(UTCTime.version(ms)), ms)
        }
    }

    // MARK: - Against a literal reference

    /// The definition of docs/merchant-risk.md written out plainly: for each merchant and window, the distinct
    /// transactions with event time in [T - D - W, T - D), and of those the ones whose latest label reported before T
    /// (a fraud label winning a tie) says fraud.
    struct Reference {
        struct Tx { var id: String; var merchant: String; var time: Int64 }
        struct Label { var id: String; var fraud: Bool; var reported: Int64 }

        static func snapshot(_ txs: [Tx], _ labels: [Label], cut T: Int64, delay D: Int64) -> [String: [Int64]] {
            var fraud: [String: Bool] = [:]
            for id in Set(labels.map(\.id)) {
                let before = labels.filter { $0.id == id && $0.reported < T }
                guard let latestTime = before.map(\.reported).max() else { continue }
                fraud[id] = before.contains { $0.reported == latestTime && $0.fraud }
            }
            var table: [String: [Int64]] = [:]
            var counted = Set<String>()
            for tx in txs where tx.time >= T - D - 30 * dayMs && tx.time < T - D && !counted.contains(tx.id) {
                counted.insert(tx.id)
                var row = table[tx.merchant] ?? [0, 0, 0, 0, 0, 0]
                for (w, days) in [1, 7, 30].enumerated() where tx.time >= T - D - Int64(days) * dayMs {
                    row[w] += 1
                    if fraud[tx.id] == true { row[3 + w] += 1 }
                }
                table[tx.merchant] = row
            }
            return table
        }
    }

    func testTheJobAgreesWithALiteralReferenceOnRandomHistories() throws {
        for seed in 1...12 as ClosedRange<UInt64> {
            var random = TestRandom(seed: seed)
            let delay = Int64(random.next() % 10) * dayMs + Int64(random.next() % 1000)
            let T = cut.cutMs + Int64(random.next() % 1_000_000)
            let merchants = 1 + Int(random.next() % 20)
            var txs: [Reference.Tx] = []
            var labels: [Reference.Label] = []
            let count = 300 + Int(random.next() % 300)
            for i in 0..<count {
                // Times over [T - D - 35 d, T + 2 d], with a share right on the boundaries.
                var time = T - delay - 35 * dayMs + Int64(random.unit() * Double(37 * dayMs))
                if random.bernoulli(0.1) {
                    let edges: [Int64] = [T - delay, T - delay - 1, T - delay - dayMs, T - delay - 7 * dayMs, T - delay - 30 * dayMs, T - delay - 30 * dayMs - 1]
                    time = edges[Int(random.next() % UInt64(edges.count))]
                }
                let tx = Reference.Tx(id: "tx-\(i)", merchant: "m-\(random.next() % UInt64(merchants))", time: time)
                txs.append(tx)
                if random.bernoulli(0.05) { txs.append(tx) }  // redelivered
                let labelCount = random.bernoulli(0.3) ? 1 + Int(random.next() % 3) : 0
                for _ in 0..<labelCount {
                    var reported = T - 20 * dayMs + Int64(random.unit() * Double(25 * dayMs))
                    if random.bernoulli(0.15) { reported = [T - 1, T, T + 1][Int(random.next() % 3)] }
                    labels.append(Reference.Label(id: tx.id, fraud: random.bernoulli(0.6), reported: reported))
                }
            }
            // Read order does not matter: shuffle both, and split each over two sources.
            var order = Array(txs.indices)
            for i in order.indices.reversed() { order.swapAt(i, Int(random.next() % UInt64(i + 1))) }
            let shuffled = order.map { txs[$0] }
            let lines = shuffled.map { transactionLine($0.id, merchant: $0.merchant, at: $0.time) }
            var labelLines = labels.map { labelLine(id: $0.id, fraud: $0.fraud, reportedAtMs: $0.reported) }
            labelLines.reverse()
            let half = lines.count / 2, labelHalf = labelLines.count / 2
            let outcome = try MerchantRiskJob(cut: MerchantRiskCut(cutMs: T, labelDelayMs: delay)).run(
                transactions: [MemorySource(lines: Array(lines[..<half])), MemorySource(lines: Array(lines[half...]))],
                labels: [MemorySource(lines: Array(labelLines[..<labelHalf])), MemorySource(lines: Array(labelLines[labelHalf...]))])

            let expected = Reference.snapshot(shuffled, labels, cut: T, delay: delay)
            var got: [String: [Int64]] = [:]
            for (merchant, c) in outcome.snapshot.merchants {
                got[merchant] = [c.transactions1d, c.transactions7d, c.transactions30d, c.frauds1d, c.frauds7d, c.frauds30d]
            }
            XCTAssertEqual(got, expected, "seed \(seed)")
            let totals = expected.values.reduce([Int64](repeating: 0, count: 6)) { zip($0, $1).map(+) }
            let t = outcome.snapshot.totals
            XCTAssertEqual([t.transactions1d, t.transactions7d, t.transactions30d, t.frauds1d, t.frauds7d, t.frauds30d], totals, "seed \(seed)")
            XCTAssertEqual(outcome.report.badRecords, 0)
        }
    }
}

final class MerchantRiskIdSetTests: XCTestCase {
    func testAgreesWithSetThroughGrowth() {
        var set = MerchantRiskIdSet(), reference = Set<UInt64>()
        var random = TestRandom(seed: 11)
        var values: [UInt64] = [0, 1, UInt64.max, 1 << 63]
        for _ in 0..<200_000 { values.append(random.next()) }
        for _ in 0..<20_000 { values.append(values[Int(random.next() % UInt64(values.count))]) }  // repeats
        for (i, v) in values.enumerated() {
            let expected = reference.insert(v == 0 ? 1 : v).inserted  // 0 is stored as 1
            XCTAssertEqual(set.insert(v), expected, "value \(i)")
        }
        XCTAssertEqual(set.count, reference.count)
        XCTAssertFalse(set.insert(values[1234]))
        XCTAssertLessThanOrEqual(set.bytes, reference.count * 8 * 2, "at least half full")
    }
}
