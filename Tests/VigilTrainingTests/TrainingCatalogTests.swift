import Foundation
import VigilCore
import XCTest
@testable import VigilTraining

/// `vigil train` fits on the catalog its records carry, and reports recall per fraud pattern from a ground-truth file.
final class TrainingCatalogTests: XCTestCase {
    /// Catalog 1 as the contract fixed it.
    let v1Names = [
        "amount", "count_1m", "count_10m", "count_1h", "count_24h", "sum_1h", "sum_24h", "distinct_merchants_1h",
        "distinct_countries_24h", "new_merchant_24h", "seconds_since_last", "country_changed", "geo_velocity_kmh",
        "amount_vs_avg", "card_not_present", "high_risk_mcc",
    ]

    /// A feature record of schema version 2 (catalog v2) carrying every feature of the running catalog.
    func v2Line(id: String, timeMs: Int64, merchant: String = "m-1", features: FeatureVector = FeatureVector(), omit: String? = nil) -> String {
        let values = FeatureCatalog.v2.features.filter { $0.name != omit }.map { "\"\($0.name)\":\(features[$0])" }.joined(separator: ",")
        return "{\"schema_version\":2,\"catalog_version\":2,\"transaction_id\":\"\(id)\",\"card_id\":\"card-1\",\"merchant_id\":\"\(merchant)\","
            + "\"merchant_risk_version\":\"none\",\"event_time_ms\":\(timeMs),\"model_version\":\"test\",\"score\":0.01,"
            + "\"verdict\":\"approve\",\"features\":{\(values)}}"
    }

    func job(_ options: TrainingOptions = TrainingOptions()) -> TrainingJob {
        TrainingJob(options: options, version: "2026-11-25T02-00-00Z", startedAtMs: 1_795_572_000_000)
    }

    /// History whose fraud is told by `count_1m` (both catalogs carry it); `v2` writes schema-2 records.
    func history(count: Int, v2: Bool, seed: UInt64 = 3, idPrefix: String = "tx") -> (features: [String], labels: [String], fraud: [Bool]) {
        var random = TestRandom(seed: seed)
        var features: [String] = [], labels: [String] = [], fraud: [Bool] = []
        for i in 0..<count {
            var f = FeatureVector()
            f[.amount] = exp(3 + random.normal())
            f[.count1m] = Double(Int(-2 * log(max(random.unit(), 1e-12))))
            let isFraud = random.bernoulli(sigmoid(-5 + 1.2 * f[.count1m]))
            let id = "\(idPrefix)-\(i)"
            let time = baseTimeMs + 90 * dayMs * Int64(i) / Int64(count)
            features.append(v2 ? v2Line(id: id, timeMs: time, features: f) : featureLine(id: id, timeMs: time, features: f))
            labels.append(labelLine(id: id, fraud: isFraud, reportedAtMs: time + dayMs))
            fraud.append(isFraud)
        }
        return (features, labels, fraud)
    }

    func testCatalogsOfRecords() throws {
        XCTAssertEqual(FeatureCatalog.v1.features.map(\.name), v1Names, "v1 is the contract's 16 features, in order")
        XCTAssertEqual(Set(FeatureCatalog.v2.features), Set(Feature.allCases))
        let v1 = try FeatureRecord.parse(Array(featureLine(id: "a", timeMs: 1).utf8))
        XCTAssertEqual(v1.catalogVersion, 1)
        var f = FeatureVector()
        f[.count1m] = 3
        let v2 = try FeatureRecord.parse(Array(v2Line(id: "b", timeMs: 2, features: f).utf8))
        XCTAssertEqual(v2.catalogVersion, 2)
        XCTAssertEqual(v2.features[.count1m], 3)
        // A v2 record must carry every v2 feature.
        let last = FeatureCatalog.v2.features.last!.name
        XCTAssertThrowsError(try FeatureRecord.parse(Array(v2Line(id: "c", timeMs: 2, omit: last).utf8))) {
            XCTAssertEqual($0 as? RecordError, .missingFeature(last))
        }
    }

    func testV1HistoryFitsAV1ModelThatNamesOnlyV1Features() throws {
        let h = history(count: 6_000, v2: false)
        let outcome = try job().run(features: MemorySource(lines: h.features), labels: MemorySource(lines: h.labels), current: nil)
        XCTAssertEqual(outcome.catalog, .v1)
        XCTAssertEqual(outcome.model.features.map(\.name), v1Names)
        XCTAssertEqual(outcome.counts.catalogV1Transactions, 6_000)
        XCTAssertTrue(outcome.summary().contains("catalog     v1, 16 features"), outcome.summary())
    }

    func testV2HistoryFitsOnEveryV2Feature() throws {
        let h = history(count: 6_000, v2: true)
        let outcome = try job().run(features: MemorySource(lines: h.features), labels: MemorySource(lines: h.labels), current: nil)
        XCTAssertEqual(outcome.catalog, .v2)
        XCTAssertEqual(outcome.model.features.map(\.name), FeatureCatalog.v2.features.map(\.name))
        XCTAssertEqual(outcome.counts.catalogV2Transactions, 6_000)
        XCTAssertNoThrow(try CompiledModel(outcome.model))
        let count1m = try XCTUnwrap(outcome.model.features.first { $0.name == "count_1m" })
        XCTAssertGreaterThan(count1m.weight, 0.5, "the signal is found")
    }

    /// Fraud told only by the catalog's last feature (merchant_fraud_rate_30d once catalog 2 is in VigilCore): a v2
    /// model finds it; a v1 model fitted on the same records cannot name it.
    func testAV2ModelLearnsFromTheFeaturesOnlyV2Carries() throws {
        let signal = FeatureCatalog.v2.features.last!
        var random = TestRandom(seed: 12)
        var features: [String] = [], labels: [String] = []
        for i in 0..<6_000 {
            var f = FeatureVector()
            f[.amount] = exp(3 + random.normal())
            f[signal] = random.bernoulli(0.1) ? 0.3 + 0.2 * random.unit() : 0.01 * random.unit()
            let isFraud = random.bernoulli(f[signal] > 0.2 ? 0.3 : 0.002)
            let time = baseTimeMs + 90 * dayMs * Int64(i) / 6_000
            features.append(v2Line(id: "tx-\(i)", timeMs: time, features: f))
            labels.append(labelLine(id: "tx-\(i)", fraud: isFraud, reportedAtMs: time + dayMs))
        }
        let v2 = try job().run(features: MemorySource(lines: features), labels: MemorySource(lines: labels), current: nil)
        let term = try XCTUnwrap(v2.model.features.first { $0.name == signal.name })
        XCTAssertGreaterThan(term.weight, 0.5, "\(signal.name) carries the signal")
        XCTAssertGreaterThan(v2.result.candidate.prAUC ?? 0, 0.15)
        var options = TrainingOptions()
        options.catalog = .v1
        let v1 = try job(options).run(features: MemorySource(lines: features), labels: MemorySource(lines: labels), current: nil)
        if !FeatureCatalog.v1.features.contains(signal) {
            XCTAssertNil(v1.model.features.first { $0.name == signal.name })
            XCTAssertGreaterThan(v2.result.candidate.prAUC ?? 0, (v1.result.candidate.prAUC ?? 0) + 0.05, "the v2 features help")
        }
    }

    func testMixedCatalogsFitOnTheCommonFeaturesUnlessAskedForV2() throws {
        let old = history(count: 3_000, v2: false, seed: 5, idPrefix: "old")
        let new = history(count: 3_000, v2: true, seed: 6, idPrefix: "new")
        let features = MemorySource(lines: old.features + new.features), labels = MemorySource(lines: old.labels + new.labels)
        let auto = try job().run(features: features, labels: labels, current: nil)
        XCTAssertEqual(auto.catalog, .v1)
        XCTAssertEqual(auto.counts.transactions, 6_000)
        XCTAssertEqual(auto.counts.excludedByCatalog, 0)
        XCTAssertTrue(auto.result.warnings.contains { $0.contains("mixes catalogs") }, "\(auto.result.warnings)")

        var options = TrainingOptions()
        options.catalog = .v2
        let onlyV2 = try job(options).run(features: features, labels: labels, current: nil)
        XCTAssertEqual(onlyV2.catalog, .v2)
        XCTAssertEqual(onlyV2.counts.excludedByCatalog, 3_000)
        XCTAssertLessThanOrEqual(onlyV2.counts.trainExamples + onlyV2.counts.validationTraffic, 3_000, "only the v2 records are used")
        XCTAssertGreaterThan(auto.counts.trainExamples + auto.counts.validationTraffic, 3_000)
        XCTAssertEqual(onlyV2.model.features.map(\.name), FeatureCatalog.v2.features.map(\.name))

        options.catalog = .v1
        let v1 = try job(options).run(features: MemorySource(lines: new.features), labels: MemorySource(lines: new.labels), current: nil)
        XCTAssertEqual(v1.model.features.map(\.name), v1Names, "v2 records fit a v1 model with --catalog 1")
    }

    // MARK: - Recall per pattern

    func testPatternRecallCountsEveryTransactionOfThePatternAtEachModelsThresholds() {
        // names: 0 unknown, 1 "skimming", 2 "none", 3 "card_testing"
        let names = ["", "skimming", "none", "card_testing"]
        let patterns: [UInt8] = [1, 1, 1, 1, 2, 2, 2, 2, 3, 0, 0]
        let candidate = [0.95, 0.7, 0.2, 0.1, 0.6, 0.1, 0.1, 0.1, 0.99, 0.99, 0.99]
        let current = [0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.95, 0.0, 0.0]
        let result = PatternRecall.measure(
            names: names, patterns: patterns, candidateScores: candidate, candidate: (review: 0.5, block: 0.9),
            currentScores: current, current: (review: 0.3, block: 0.96))
        XCTAssertEqual(result.map(\.pattern), ["card_testing", "skimming", "none"], "by name, genuine last; unknown rows left out")
        XCTAssertEqual(result.map(\.transactions), [1, 4, 4])
        XCTAssertEqual(result[1].candidate, .init(reviewed: 0.5, blocked: 0.25))
        XCTAssertEqual(result[1].current, .init(reviewed: 1, blocked: 0))
        XCTAssertEqual(result[2].candidate, .init(reviewed: 0.25, blocked: 0), "false alarms among genuine payments")
        XCTAssertEqual(result[0].current, .init(reviewed: 1, blocked: 0))
        XCTAssertEqual(PatternRecall.measure(names: names, patterns: [], candidateScores: [], candidate: (0.5, 0.9), currentScores: nil, current: nil), [])
        let noCurrent = PatternRecall.measure(names: names, patterns: patterns, candidateScores: candidate, candidate: (0.5, 0.9), currentScores: nil, current: nil)
        XCTAssertNil(noCurrent[0].current)
    }

    func testTheReportShowsRecallPerPatternOnlyWithGroundTruth() throws {
        let h = history(count: 8_000, v2: false, seed: 9)
        // Frauds get pattern "burst" or "other" by parity, genuine payments "none"; one line is bad.
        var truth = h.fraud.enumerated().map { i, isFraud in
            "{\"transaction_id\":\"tx-\(i)\",\"pattern\":\"\(isFraud ? (i % 2 == 0 ? "burst" : "other") : "none")\"}"
        }
        truth.append("{\"transaction_id\":\"tx-x\"}")
        let baselineURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("models/baseline.json")
        let current = try ModelFile.parse(Data(contentsOf: baselineURL))
        let outcome = try job().run(
            features: MemorySource(lines: h.features), labels: MemorySource(lines: h.labels),
            truth: MemorySource(lines: truth, name: "truth"), current: current)
        let patterns = outcome.result.patterns
        XCTAssertEqual(patterns.map(\.pattern), ["burst", "other", "none"])
        XCTAssertEqual(outcome.truthTally?.bad, ["missing pattern": 1])

        // The shares are those of the validation period, scored by each model at its own thresholds.
        var book = LabelBook()
        _ = try MemorySource(lines: h.labels).read({ book.add($0) }, progress: { _ in })
        var t = PatternTruth()
        _ = try MemorySource(lines: truth).read({ t.add($0) }, progress: { _ in })
        var builder = TrainingSetBuilder(options: TrainingOptions(), labels: book, truth: t)
        _ = try MemorySource(lines: h.features).read({ builder.add($0) }, progress: { _ in })
        let validation = try builder.build().validation
        let candidate = try CompiledModel(outcome.model), baseline = try CompiledModel(current)
        for p in patterns {
            let slot = UInt8(t.names.firstIndex(of: p.pattern)!)
            let rows = (0..<validation.count).filter { validation.pattern($0) == slot }
            XCTAssertEqual(p.transactions, rows.count, p.pattern)
            func share(_ model: CompiledModel, _ threshold: Double) -> Double {
                Double(rows.filter { model.score(validation.features($0)).value >= threshold }.count) / Double(rows.count)
            }
            XCTAssertEqual(p.candidate.reviewed, share(candidate, candidate.thresholds.review), accuracy: 1e-12, p.pattern)
            XCTAssertEqual(p.candidate.blocked, share(candidate, candidate.thresholds.block), accuracy: 1e-12, p.pattern)
            XCTAssertEqual(p.current!.reviewed, share(baseline, baseline.thresholds.review), accuracy: 1e-12, p.pattern)
            XCTAssertEqual(p.current!.blocked, share(baseline, baseline.thresholds.block), accuracy: 1e-12, p.pattern)
        }
        XCTAssertGreaterThan(patterns[0].candidate.reviewed, patterns[2].candidate.reviewed, "fraud is flagged more than genuine traffic")
        let summary = outcome.summary()
        XCTAssertTrue(summary.contains("recall by pattern"), summary)
        XCTAssertTrue(summary.contains("none (false alarms)"), summary)
        let metadata = String(decoding: try JSONEncoder().encode(outcome.metadata()), as: UTF8.self)
        XCTAssertTrue(metadata.contains("\"pattern\":\"burst\""), metadata)

        let without = try job().run(features: MemorySource(lines: h.features), labels: MemorySource(lines: h.labels), current: current)
        XCTAssertEqual(without.result.patterns, [])
        XCTAssertFalse(without.summary().contains("recall by pattern"))
    }
}
