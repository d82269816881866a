import Foundation
import Kafka
import Logging
import VigilCore
import VigilService
import XCTest

/// A candidate model scored beside the active one: its verdicts go to the shadow topic, one per decision, and never
/// change a decision.
final class ShadowScoringTests: XCTestCase {
    func testShadowVerdictsGoToTheShadowTopicAndNeverDecide() throws {
        let h = try Harness(partitions: 2)
        let active = try ModelHolder(path: h.config.modelPath).model
        var candidateFile = active.file
        candidateFile.version = "shadow-candidate"
        candidateFile.bias += 2  // flags far more than the active model, so verdicts disagree
        let candidate = try CompiledModel(candidateFile)
        let holder = ModelHolder(model: active, shadow: candidate)
        var logger = Logger(label: "vigil.test")
        logger.logLevel = .warning
        let runner = PipelineRunner(try Pipeline(config: h.config, models: holder, logger: logger))
        let input = traffic(count: 1500, seed: 23)
        try h.publish(input)
        XCTAssertTrue(runner.waitForProcessed(input.count))
        let during = runner.pipeline.stats.snapshot
        XCTAssertEqual(during.shadowModelVersion, "shadow-candidate")
        XCTAssertEqual(during.shadowVerdicts.total, during.decided, "every decision counted once by verdict pair")
        XCTAssertLessThan(during.shadowVerdicts.agreeing, during.decided)
        // Withdrawn while running: the next records get no shadow message.
        holder.swapShadow(nil)
        let more = traffic(count: 300, seed: 24, startMs: 1_764_000_000_000 + 1500 * 20_000)
        try h.publish(more)
        XCTAssertTrue(runner.waitForProcessed(input.count + more.count))
        let after = runner.pipeline.stats.snapshot
        runner.stop()

        // Decisions are exactly what the active model alone decides (the oracle scores with it).
        try checkOutputs(h)
        let decisions = try h.readAll(h.config.topics.decisions).map { json($0.value) }
        let shadow = try h.readAll(h.config.topics.shadow)
        let byId = Dictionary(decisions.map { ($0["transaction_id"] as! String, $0) }, uniquingKeysWith: { a, _ in a })
        let firstIds = Set(input.compactMap { json($0.value)["transaction_id"] as? String })
        XCTAssertEqual(shadow.count, during.decided, "one shadow verdict per decision while the shadow model was set")
        var disagreements = 0
        for message in shadow {
            let s = json(message.value)
            let id = try XCTUnwrap(s["transaction_id"] as? String)
            XCTAssertEqual(message.key.map { String(decoding: $0, as: UTF8.self) }, id, "keyed by transaction id")
            let d = try XCTUnwrap(byId[id], "a shadow verdict for a decided transaction")
            XCTAssertEqual(s["model_version"] as? String, "shadow-candidate")
            XCTAssertEqual(s["active_verdict"] as? String, d["verdict"] as? String)
            XCTAssertEqual(s["active_score"] as? Double, d["score"] as? Double)
            XCTAssertEqual(s["active_model_version"] as? String, active.version)
            XCTAssertEqual(s["card_id"] as? String, d["card_id"] as? String)
            XCTAssertEqual(s["event_time_ms"] as? Int, d["event_time_ms"] as? Int)
            for field in ["verdict", "score", "reasons", "decided_at_ms", "schema_version"] { XCTAssertNotNil(s[field], field) }
            if s["verdict"] as? String != d["verdict"] as? String { disagreements += 1 }
        }
        XCTAssertEqual(Set(shadow.map { json($0.value)["transaction_id"] as! String }).count, shadow.count, "one per decision")
        XCTAssertTrue(shadow.allSatisfy { firstIds.contains(json($0.value)["transaction_id"] as! String) },
                      "no shadow verdicts after the shadow model was withdrawn")
        XCTAssertEqual(shadow.count - disagreements, during.shadowVerdicts.agreeing)
        XCTAssertNil(after.shadowModelVersion, "the counts go with the shadow model")
        XCTAssertEqual(after.shadowVerdicts.total, 0)
    }

    func testShadowModelFileIsReloadedLikeTheActiveOne() throws {
        let active = modelsDirectory.appendingPathComponent("baseline.json").path
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shadow-\(UUID().uuidString).json")
        var file = try ModelFile.parse(Data(contentsOf: URL(fileURLWithPath: active)))
        file.version = "shadow-v1"
        try file.encoded().write(to: url)
        let holder = try ModelHolder(path: active, shadowPath: url.path)
        XCTAssertEqual(holder.shadow?.version, "shadow-v1")
        file.version = "shadow-v2-longer"
        try file.encoded().write(to: url)
        let logs = LogCapture()
        XCTAssertNil(holder.reloadIfChanged(logger: logs.logger), "the active file did not change")
        XCTAssertEqual(holder.shadow?.version, "shadow-v2-longer")
        XCTAssertEqual(logs.count(of: "shadow model loaded"), 1)
        try Data("{ not json".utf8).write(to: url)
        holder.reloadIfChanged(logger: logs.logger)
        XCTAssertEqual(holder.shadow?.version, "shadow-v2-longer", "a bad shadow file leaves the running shadow")
        XCTAssertEqual(logs.count(of: "model rejected"), 1)
        XCTAssertThrowsError(try ModelHolder(path: active, shadowPath: url.path), "a bad shadow file stops the start")
    }

    func testShadowCountsInMetrics() throws {
        var s = PipelineStats.Snapshot()
        s.modelVersion = "active-1"
        XCTAssertFalse(VigilMetrics().render(.init(stats: s)).contains("vigil_shadow"), "no shadow, no shadow series")
        s.shadowModelVersion = "cand-1"
        let text = VigilMetrics().render(.init(stats: s))
        XCTAssertTrue(text.contains("vigil_shadow_model_info{version=\"cand-1\"} 1"), text)
        XCTAssertTrue(text.contains("vigil_shadow_verdicts_total{shadow_version=\"cand-1\",active=\"approve\",shadow=\"block\"} 0"), text)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("vigil_shadow_verdicts_total{") }.count, 9, "bounded: 3 x 3")
    }
}
