import Foundation
import XCTest
@testable import VigilCore

final class ModelTests: XCTestCase {
    func model(_ terms: [ModelFile.Term], bias: Double = -2, review: Double = 0.5, block: Double = 0.9) -> ModelFile {
        ModelFile(version: "test-1", features: terms, bias: bias, thresholds: .init(review: review, block: block))
    }

    func testCompiledScoreEqualsTheNaiveFormula() throws {
        let file = model([
            .init(name: "count_1m", transform: "log1p", mean: 0.3, std: 0.7, weight: 1.5),
            .init(name: "amount", transform: "clip", min: 0, max: 500, mean: 40, std: 60, weight: 0.8),
            .init(name: "high_risk_mcc", mean: 0.02, std: 0.14, weight: 0.6),
            .init(name: "geo_velocity_kmh", transform: "log1p", mean: 1, std: 2, weight: -0.2),
        ])
        let compiled = try CompiledModel(file)
        var rng = SplitMix(seed: 3)
        for _ in 0..<1000 {
            var x = FeatureVector()
            for f in Feature.allCases { x[f] = Double(rng.next() % 10_000) / 7 }
            var naive = file.bias
            for term in file.features {
                let raw = x[Feature(name: term.name)!]
                let v: Double
                switch term.transform {
                case "log1p": v = log1p(raw)
                case "clip": v = min(max(raw, term.min!), term.max!)
                default: v = raw
                }
                naive += term.weight * (v - term.mean) / term.std
            }
            let p = 1 / (1 + exp(-naive))
            XCTAssertEqual(compiled.logit(x), naive, accuracy: 1e-9 * max(1, abs(naive)))
            XCTAssertEqual(compiled.score(x).value, p, accuracy: 1e-12)
        }
    }

    func testReasonsAreTheTopThreePositiveContributions() throws {
        let compiled = try CompiledModel(model([
            .init(name: "count_1m", weight: 1), .init(name: "count_10m", weight: 2),
            .init(name: "count_1h", weight: 3), .init(name: "count_24h", weight: 4),
            .init(name: "sum_1h", weight: -5), .init(name: "amount", mean: 10, weight: 1),
        ]))
        var x = FeatureVector()
        x[.count1m] = 1; x[.count10m] = 1; x[.count1h] = 1; x[.count24h] = 1; x[.sum1h] = 1; x[.amount] = 5
        let reasons = compiled.score(x).reasons
        XCTAssertEqual(reasons.count, 3)
        XCTAssertEqual(reasons[0].feature, .count24h); XCTAssertEqual(reasons[0].contribution, 4, accuracy: 1e-12)
        XCTAssertEqual(reasons[1].feature, .count1h); XCTAssertEqual(reasons[1].contribution, 3, accuracy: 1e-12)
        XCTAssertEqual(reasons[2].feature, .count10m); XCTAssertEqual(reasons[2].contribution, 2, accuracy: 1e-12)
        // Only positive contributions count: amount 5 below its mean 10 contributes -5.
        x = FeatureVector(); x[.amount] = 5; x[.count1m] = 0.5
        let few = compiled.score(x).reasons
        XCTAssertEqual(few.count, 1)
        XCTAssertEqual(few[0].feature, .count1m)
    }

    func testVerdictThresholds() throws {
        let compiled = try CompiledModel(model([.init(name: "amount", weight: 1)], bias: 0, review: 0.5, block: 0.9))
        var x = FeatureVector()
        x[.amount] = -1; XCTAssertEqual(compiled.score(x).verdict, .approve)
        x[.amount] = 0; XCTAssertEqual(compiled.score(x).verdict, .review)  // p = 0.5 exactly: review
        x[.amount] = log(9) + 1e-9; XCTAssertEqual(compiled.score(x).verdict, .block)  // p just over 0.9
    }

    func testRefusesBadModels() {
        func refused(_ file: ModelFile) -> ModelError? {
            do { _ = try CompiledModel(file); return nil } catch { return error }
        }
        XCTAssertEqual(refused(model([.init(name: "count_2m", weight: 1)])), .unknownFeature("count_2m"))
        XCTAssertEqual(refused(model([.init(name: "amount", weight: 1), .init(name: "amount", weight: 2)])),
                       .duplicateFeature("amount"))
        XCTAssertEqual(refused(model([.init(name: "amount", std: 0, weight: 1)])),
                       .badNumber("std of 'amount' must be finite and > 0, got 0.0"))
        XCTAssertEqual(refused(model([.init(name: "amount", weight: .nan)])), .badNumber("weight of 'amount' is not finite"))
        XCTAssertNotNil(refused(model([.init(name: "amount", transform: "sqrt", weight: 1)])))
        XCTAssertNotNil(refused(model([.init(name: "amount", transform: "clip", min: 5, max: 1, weight: 1)])))
        XCTAssertNotNil(refused(model([.init(name: "amount", transform: "clip", weight: 1)])))
        XCTAssertNotNil(refused(model([.init(name: "amount", weight: 1)], review: 0.9, block: 0.5)))
        XCTAssertNotNil(refused(model([.init(name: "amount", weight: 1)], review: 0, block: 0.5)))
        XCTAssertNotNil(refused(model([.init(name: "amount", weight: 1)], bias: .infinity)))
    }

    func testParseErrorsNameTheProblem() {
        func parseError(_ text: String) -> String {
            do { _ = try ModelFile.parse(Data(text.utf8)); return "" } catch { return error.description }
        }
        XCTAssertTrue(parseError("{").contains("not valid JSON"))
        XCTAssertTrue(parseError(#"{"version":"v","features":[],"bias":0}"#).contains("thresholds"))
        XCTAssertTrue(parseError(#"{"version":"v","features":[{"name":"amount","weight":"x","mean":0,"std":1,"transform":"identity"}],"bias":0,"thresholds":{"review":0.5,"block":0.9}}"#)
            .contains("features[0].weight"))
    }

    func testModelFileRoundTripsThroughTheCompiler() throws {
        let file = model([.init(name: "amount", transform: "log1p", mean: 3, std: 1.2, weight: 0.7, why: "big spends")])
        let again = try ModelFile.parse(try file.encoded())
        XCTAssertEqual(again, file)
        XCTAssertEqual(try CompiledModel(again).logit(FeatureVector()), try CompiledModel(file).logit(FeatureVector()))
    }

    func testShippedModelsCompile() throws {
        let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models")
        let files = try FileManager.default.contentsOfDirectory(atPath: models.path).filter { $0.hasSuffix(".json") }
        XCTAssertTrue(files.contains("baseline.json"))
        for name in files {
            let compiled = try CompiledModel(ModelFile.parse(Data(contentsOf: models.appendingPathComponent(name))))
            XCTAssertFalse(compiled.version.isEmpty)
        }
    }
}
