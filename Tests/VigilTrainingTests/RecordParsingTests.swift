import Foundation
import VigilCore
import XCTest
@testable import VigilTraining

final class RecordParsingTests: XCTestCase {
    /// A record exactly as the service writes it (OutputEncoder) parses back to the same values.
    /// The feature records Vigil writes under either catalog parse back to what was scored.
    func testRecordsOfBothCatalogsAsTheServiceWritesThem() throws {
        var f = FeatureVector()
        for slot in 0..<Feature.count { f.values[slot] = Double(slot) * 1.25 }
        let tx = Transaction(
            transactionId: "tx-7", cardId: "card-1", amountMinor: 100, currency: CurrencyCode("EUR")!, merchantId: "m-3",
            mcc: 5411, country: CountryCode("DE")!, channel: .pos, location: nil, eventTimeMs: 99)
        let model = try CompiledModel(ModelFile(
            version: "m", features: [.init(name: "amount", weight: 1)], bias: -3, thresholds: .init(review: 0.5, block: 0.9)))
        let d = Decision(transaction: tx, features: f, score: model.score(f),
                         modelVersion: "m", decidedAtMs: 1, merchantRiskVersion: "2026-11-24T00-00-00Z-0123456789ab")
        for catalog in FeatureCatalog.allCases {
            var encoder = OutputEncoder(catalog: catalog)
            let record = try FeatureRecord.parse(encoder.featureRecord(d))
            XCTAssertEqual(record.transactionId, "tx-7")
            XCTAssertEqual(record.verdict, d.verdict)
            for slot in 0..<Feature.count {
                XCTAssertEqual(record.features.values[slot], slot < catalog.count ? f.values[slot] : 0, "\(catalog) slot \(slot)")
            }
        }
    }

    func testParsesServiceOutput() throws {
        let model = try CompiledModel(ModelFile.parse(Data(contentsOf: URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("models/baseline.json"))))
        let tx = Transaction(
            transactionId: "tx-\"quoted\"-é", cardId: "card-1", amountMinor: 12999, currency: CurrencyCode("EUR")!,
            merchantId: "m-1", mcc: 5411, country: CountryCode("DE")!, channel: .ecom, location: nil, eventTimeMs: 1_764_000_000_000)
        var state = CardState()
        var clock = PartitionClock()
        guard case .decided(let decision) = ScoringStep(config: FeatureConfig()).process(
            tx, state: &state, clock: &clock, model: model, nowMs: 0, referenceMs: tx.eventTimeMs)
        else { return XCTFail("not decided") }
        var encoder = OutputEncoder()
        let record = try FeatureRecord.parse(encoder.featureRecord(decision))
        XCTAssertEqual(record.transactionId, "tx-\"quoted\"-é")
        XCTAssertEqual(record.eventTimeMs, 1_764_000_000_000)
        XCTAssertEqual(record.verdict, decision.verdict)
        XCTAssertEqual(record.features, decision.features)
    }

    func testFeatureRecordErrors() {
        func error(_ text: String) -> RecordError? {
            do { _ = try FeatureRecord.parse(Array(text.utf8)); return nil } catch { return error }
        }
        let good = featureLine(id: "a", timeMs: 5)
        XCTAssertNil(error(good))
        XCTAssertNil(error("  " + good + "  "))
        XCTAssertEqual(error("{"), .invalidJSON)
        XCTAssertEqual(error(good + "x"), .invalidJSON)
        XCTAssertEqual(error("[1]"), .invalidJSON)
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"schema_version\":1", with: "\"schema_version\":3")), .unsupportedSchemaVersion)
        // Schema 1 needs catalog 1's features only; schema 2 needs all of catalog 2's.
        let v1Only = featureLine(id: "a", timeMs: 5, catalog: .v1)
        XCTAssertNil(error(v1Only))
        XCTAssertEqual(error(v1Only.replacingOccurrences(of: "\"schema_version\":1", with: "\"schema_version\":2")),
                       .missingFeature("count_7d"))
        XCTAssertNil(error(good.replacingOccurrences(of: "\"schema_version\":1", with: "\"schema_version\":2")))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"schema_version\":1", with: "\"schema_version\":2,\"catalog_version\":1")),
                       .badValue(field: "catalog_version", "is not 2"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"schema_version\":1,", with: "")), .missingField("schema_version"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"transaction_id\":\"a\",", with: "")), .missingField("transaction_id"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"event_time_ms\":5,", with: "\"event_time_ms\":\"5\",")), .wrongType(field: "event_time_ms"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"event_time_ms\":5,", with: "\"event_time_ms\":5.5,")), .badValue(field: "event_time_ms", "is not an integer"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"count_1m\":0.0,", with: "")), .missingFeature("count_1m"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"count_1m\":0.0", with: "\"count_1m\":1e999")), .badValue(field: "features.count_1m", "is not finite"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"count_1m\":0.0", with: "\"count_1m\":null")), .wrongType(field: "features.count_1m"))
        // Unknown fields, including nested ones and unknown features, are ignored.
        XCTAssertNil(error(good.replacingOccurrences(of: "{\"schema_version\":1,", with: "{\"schema_version\":1,\"extra\":{\"a\":[1,{\"b\":null}]},")
            .replacingOccurrences(of: "\"features\":{", with: "\"features\":{\"future_feature\":3,")))
    }

    func testLabelRecord() throws {
        let label = try LabelRecord.parse(Array(labelLine(id: "tx-1", fraud: true, reportedAtMs: 42).utf8))
        XCTAssertEqual(label, LabelRecord(transactionId: "tx-1", isFraud: true, reportedAtMs: 42))
        let escaped = try LabelRecord.parse(Array("{\"schema_version\":1,\"transaction_id\":\"tx\\u002d1\",\"is_fraud\":false}".utf8))
        XCTAssertEqual(escaped, LabelRecord(transactionId: "tx-1", isFraud: false, reportedAtMs: nil))
        XCTAssertThrowsError(try LabelRecord.parse(Array("{\"schema_version\":1,\"transaction_id\":\"tx-1\",\"is_fraud\":1}".utf8))) {
            XCTAssertEqual($0 as? RecordError, .wrongType(field: "is_fraud"))
        }
        XCTAssertThrowsError(try LabelRecord.parse(Array("{\"schema_version\":1,\"transaction_id\":\"tx-1\"}".utf8))) {
            XCTAssertEqual($0 as? RecordError, .missingField("is_fraud"))
        }
    }

    /// Schema version 2 (contract 1.5, `vigil console`): schema 1 plus `reported_by` and `source`, both required, and
    /// `reported_at_ms` required; the same readers accept both versions.
    func testLabelRecordSchemaVersion2() throws {
        let line = "{\"schema_version\":2,\"transaction_id\":\"tx-7\",\"is_fraud\":true,\"reported_at_ms\":1766592000000,"
            + "\"reported_by\":\"Ana \\u00d6z\",\"source\":\"console\",\"click_id\":\"c-1\"}"
        XCTAssertEqual(
            try LabelRecord.parse(Array(line.utf8)),
            LabelRecord(transactionId: "tx-7", isFraud: true, reportedAtMs: 1_766_592_000_000, reportedBy: "Ana \u{d6}z", source: "console"))
        func error(_ text: String) -> RecordError? {
            do { _ = try LabelRecord.parse(Array(text.utf8)); return nil } catch { return error as? RecordError }
        }
        let good = "{\"schema_version\":2,\"transaction_id\":\"tx-7\",\"is_fraud\":false,\"reported_at_ms\":5,\"reported_by\":\"ana\",\"source\":\"console\"}"
        XCTAssertNil(error(good))
        XCTAssertEqual(error(good.replacingOccurrences(of: ",\"reported_by\":\"ana\"", with: "")), .missingField("reported_by"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"ana\"", with: "\"\"")), .badValue(field: "reported_by", "is empty"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"ana\"", with: "7")), .wrongType(field: "reported_by"))
        XCTAssertEqual(error(good.replacingOccurrences(of: ",\"source\":\"console\"", with: "")), .missingField("source"))
        XCTAssertEqual(error(good.replacingOccurrences(of: ",\"reported_at_ms\":5", with: "")), .missingField("reported_at_ms"))
        XCTAssertEqual(error(good.replacingOccurrences(of: "\"schema_version\":2", with: "\"schema_version\":3")), .unsupportedSchemaVersion)
        // Schema 1 stays as it was: the new fields are not required there (and are read when present).
        XCTAssertEqual(
            try LabelRecord.parse(Array("{\"schema_version\":1,\"transaction_id\":\"tx-1\",\"is_fraud\":true}".utf8)),
            LabelRecord(transactionId: "tx-1", isFraud: true, reportedAtMs: nil))
        // ... and in schema 1 they are unknown fields, ignored whatever they hold (the contract's forward compatibility).
        XCTAssertEqual(
            try LabelRecord.parse(Array("{\"schema_version\":1,\"transaction_id\":\"tx-1\",\"is_fraud\":true,\"source\":null,\"reported_by\":7}".utf8)),
            LabelRecord(transactionId: "tx-1", isFraud: true, reportedAtMs: nil))
    }

    /// The training job's label book and the merchant-risk job's first pass both take schema-2 labels.
    func testSchemaVersion2LabelsReachBothJobs() throws {
        let line = Array("{\"schema_version\":2,\"transaction_id\":\"tx-9\",\"is_fraud\":true,\"reported_at_ms\":1000,\"reported_by\":\"ana\",\"source\":\"console\"}".utf8)
        var book = LabelBook()
        line.withUnsafeBytes { book.add(RawRecord(bytes: $0, location: .line(1))) }
        XCTAssertEqual(book.tally.accepted, 1)
        XCTAssertEqual(book.count, 1)
        var merchant = MerchantRiskLabels(cut: MerchantRiskCut(cutMs: 2000, labelDelayMs: 0))
        line.withUnsafeBytes { merchant.add(RawRecord(bytes: $0, location: .line(1))) }
        XCTAssertEqual(merchant.tally.accepted, 1)
        XCTAssertEqual(merchant.fraudIds(), [MerchantTransaction.idHash("tx-9")])
    }

    /// A JSON-lines file with bad lines, blank lines, CRLF endings, an overlong line and no final newline: bad
    /// lines are counted by reason with their line numbers, the rest is used, and nothing is fatal.
    func testJSONLinesFileWithBadLines() throws {
        let path = temporaryPath("bad-lines.jsonl")
        let long = "{\"schema_version\":1,\"pad\":\"" + String(repeating: "x", count: 1500) + "\"}"
        let lines = [
            featureLine(id: "a", timeMs: 1),
            "not json",
            "",
            featureLine(id: "b", timeMs: 2) + "\r",
            "   ",
            long,
            "{\"schema_version\":7}",
            featureLine(id: "c", timeMs: 3).replacingOccurrences(of: "\"amount\":0.0,", with: ""),
            featureLine(id: "d", timeMs: 4),
        ]
        try Data(lines.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: path))
        var file = JSONLinesFile(path: path, maxLineBytes: 1024)
        file.chunkBytes = 100  // lines straddle chunk boundaries
        var builder = TrainingSetBuilder(options: TrainingOptions(), labels: LabelBook())
        let summary = try file.read({ builder.add($0) }, progress: { _ in })
        XCTAssertEqual(summary.records, 7)
        XCTAssertEqual(builder.featureTally.read, 7)
        XCTAssertEqual(builder.featureTally.accepted, 3)
        XCTAssertEqual(builder.featureTally.bad, [
            "not a JSON object": 1, "longer than 1024 bytes": 1, "unsupported schema_version": 1, "missing feature amount": 1,
        ])
        XCTAssertEqual(builder.featureTally.examples, [
            "line 2: not a JSON object", "line 6: longer than 1024 bytes", "line 7: unsupported schema_version",
            "line 8: missing feature amount",
        ])
        XCTAssertEqual(builder.count, 3)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(summary.sha256, SHA256.hex(bytes))
        XCTAssertEqual(summary.bytes, Int64(bytes.count))

        XCTAssertThrowsError(try JSONLinesFile(path: temporaryPath("missing.jsonl")).read({ _ in }, progress: { _ in })) {
            XCTAssertTrue("\($0)".contains("cannot open"))
        }
    }
}
