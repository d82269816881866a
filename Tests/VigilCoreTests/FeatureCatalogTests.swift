import Foundation
import XCTest
@testable import VigilCore

/// Which models each catalog serves, and the feature records each catalog writes.
final class FeatureCatalogTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models")
        .standardized

    /// Every model in `models/` (catalog-1 models) loads under both catalogs.
    func testCatalogOneModelsLoadUnderBothCatalogs() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.models.path).filter { $0.hasSuffix(".json") }
        XCTAssertFalse(files.isEmpty)
        for name in files {
            let file = try ModelFile.parse(Data(contentsOf: Self.models.appendingPathComponent(name)))
            XCTAssertNoThrow(try CompiledModel(file, servedBy: .v1), name)
            XCTAssertNoThrow(try CompiledModel(file, servedBy: .v2), name)
        }
    }

    /// A model naming a catalog-2 feature is refused by catalog 1, naming the feature and the catalog.
    func testCatalogOneRefusesAModelNamingACatalogTwoFeature() throws {
        for feature in Feature.allCases.dropFirst(16) {
            let file = ModelFile(
                version: "v2-model", features: [.init(name: "amount", weight: 1), .init(name: feature.name, weight: 0.5)],
                bias: -3, thresholds: .init(review: 0.5, block: 0.9))
            XCTAssertNoThrow(try CompiledModel(file, servedBy: .v2))
            XCTAssertThrowsError(try CompiledModel(file, servedBy: .v1)) { error in
                XCTAssertEqual(error as? ModelError, .notServed(feature: feature.name, catalog: 1))
                XCTAssertTrue("\(error)".contains("'\(feature.name)' is not served by the running feature catalog 1"), "\(error)")
            }
        }
    }

    /// Catalog 1's feature record is the one Vigil wrote before catalog 2, byte for byte, whatever the vector holds in
    /// the catalog-2 slots.
    func testCatalogOneFeatureRecordIsUnchanged() {
        var f = FeatureVector()
        for slot in 0..<Feature.count { f.values[slot] = Double(slot) + 0.5 }
        let d = Decision(
            transaction: tx("tx-9", card: "card-q", merchant: "m-7", at: t0), features: f,
            score: Score(value: 0.25, verdict: .approve, reasons: Reasons()), modelVersion: "mv", decidedAtMs: 5,
            merchantRiskVersion: "2026-11-24T00-00-00Z-0123456789ab")
        var encoder = OutputEncoder(catalog: .v1)
        let names = Feature.allCases.prefix(16).map { "\"\($0.name)\":\(Double($0.rawValue) + 0.5)" }.joined(separator: ",")
        let expected = #"{"schema_version":1,"transaction_id":"tx-9","card_id":"card-q","event_time_ms":1764000000000,"model_version":"mv","score":0.25,"verdict":"approve","features":{"#
            + names + "}}"
        XCTAssertEqual(String(decoding: encoder.featureRecord(d), as: UTF8.self), expected)
        XCTAssertEqual(OutputEncoder().catalog, .v1)
    }

    /// Catalog 2's feature record: schema version 2, catalog version, merchant id, the snapshot version (or "none")
    /// and all 26 features.
    func testCatalogTwoFeatureRecord() throws {
        var f = FeatureVector()
        for slot in 0..<Feature.count { f.values[slot] = Double(slot) }
        var d = Decision(
            transaction: tx("tx-9", card: "card-q", merchant: "m-7", at: t0), features: f,
            score: Score(value: 0.75, verdict: .review, reasons: Reasons()), modelVersion: "mv", decidedAtMs: 5,
            merchantRiskVersion: "2026-11-24T00-00-00Z-0123456789ab")
        var encoder = OutputEncoder(catalog: .v2)
        let record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(encoder.featureRecord(d))) as? [String: Any])
        XCTAssertEqual(record["schema_version"] as? Int, 2)
        XCTAssertEqual(record["catalog_version"] as? Int, 2)
        XCTAssertEqual(record["merchant_id"] as? String, "m-7")
        XCTAssertEqual(record["merchant_risk_version"] as? String, "2026-11-24T00-00-00Z-0123456789ab")
        let features = try XCTUnwrap(record["features"] as? [String: Double])
        XCTAssertEqual(features.count, 26)
        for feature in Feature.allCases { XCTAssertEqual(features[feature.name], Double(feature.rawValue), feature.name) }
        d.merchantRiskVersion = nil
        let none = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(encoder.featureRecord(d))) as? [String: Any])
        XCTAssertEqual(none["merchant_risk_version"] as? String, "none")
    }
}

/// The allocation-free parser of the hot path accepts and refuses exactly what the shared parser does.
final class MerchantRiskBytesTests: XCTestCase {
    func testAgreesWithTheSharedParser() {
        var rng = SplitMix(seed: 31)
        var inputs = ["0,0,0,0,0,0", "1,2,3,1,2,3", "1,2,3,2,2,3", "1,2,3", "1,2,3,4,5,6,7", ",1,2,3,4,5", "1,,2,3,4,5",
                      "1,2,3,0,0,0,", "999999999999999999,1,1,0,0,0", "9999999999999999999,1,1,0,0,0", "", "a", "1,2,3,0,0,-1",
                      " 1,2,3,0,0,0"]
        let alphabet = Array("0123456789,,,x-".utf8)
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 24)
            inputs.append(String(decoding: (0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self))
            let c = (0..<6).map { _ in rng.next() % 20 }
            inputs.append(c.map(String.init).joined(separator: ","))
        }
        for input in inputs {
            let bytes = Array(input.utf8)
            let fast = bytes.withUnsafeBytes { MerchantRiskCounts(redisBytes: $0) }
            XCTAssertEqual(fast, MerchantRiskCounts(redisValue: bytes), input)
        }
    }
}
