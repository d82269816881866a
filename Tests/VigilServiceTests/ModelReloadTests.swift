import Foundation
import Logging
import VigilCore
import VigilService
import XCTest

/// Hot reload: a changed model file is swapped in without stopping; a bad one is refused and the running model stays.
final class ModelReloadTests: XCTestCase {
    func writeModel(_ url: URL, version: String, bias: Double = -5) throws {
        var file = try ModelFile.parse(Data(contentsOf: modelsDirectory.appendingPathComponent("baseline.json")))
        file.version = version
        file.bias = bias
        try file.encoded().write(to: url)
    }

    func testHolderSwapsGoodFilesAndKeepsTheModelOnBadOnes() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).json")
        try writeModel(url, version: "v1")
        let holder = try ModelHolder(path: url.path)
        let logger = Logger(label: "test")
        XCTAssertNil(holder.reloadIfChanged(logger: logger), "unchanged file: nothing to do")
        try writeModel(url, version: "v2-longer-name")
        XCTAssertEqual(holder.reloadIfChanged(logger: logger), "v2-longer-name")
        XCTAssertEqual(holder.model.version, "v2-longer-name")
        try Data(#"{"version":"v3","features":[{"name":"count_2m","weight":1}],"bias":0,"thresholds":{"review":0.5,"block":0.9}}"#.utf8)
            .write(to: url)
        XCTAssertNil(holder.reloadIfChanged(logger: logger))
        XCTAssertEqual(holder.model.version, "v2-longer-name", "a bad file leaves the running model in place")
        XCTAssertEqual(holder.reloadIfChanged(force: true, logger: logger), nil, "forcing does not accept a bad file either")
        XCTAssertThrowsError(try ModelHolder(path: url.path + ".missing"))
    }

    func testRunningServiceSwitchesModelsOnFileChangeAndSighup() throws {
        let h = try Harness(partitions: 1)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).json")
        try writeModel(url, version: "reload-v1")
        h.config.modelPath = url.path
        let input = traffic(count: 900, seed: 41)
        try h.publish(Array(input[..<300]))
        let vigil = try VigilProcess(h, name: "reload")
        XCTAssertTrue(h.waitForApplied(300))
        try writeModel(url, version: "reload-v2-new")
        XCTAssertTrue(vigil.waitForLog("model.version=reload-v2-new", timeout: 15), "reloaded (polled once a second): \(vigil.log.suffix(3000))")
        try h.publish(Array(input[300..<600]))
        XCTAssertTrue(h.waitForApplied(600))
        // A broken file is refused; SIGHUP asks for a reload, which is refused too.
        try Data("{ not json".utf8).write(to: url)
        XCTAssertTrue(vigil.waitForLog("model rejected", timeout: 15), vigil.log.suffix(3000).description)
        let logged = vigil.log.count
        kill(vigil.process.processIdentifier, SIGHUP)
        XCTAssertTrue(vigil.waitForLog("SIGHUP received", after: logged, timeout: 15), vigil.log.suffix(3000).description)
        XCTAssertTrue(
            waitUntil(timeout: 15) { vigil.logCount("model rejected") >= 2 }, "the forced reload is refused too: \(vigil.log.suffix(3000))")
        try h.publish(Array(input[600...]))
        XCTAssertTrue(h.waitForApplied(900))
        XCTAssertNotNil(vigil.terminate())
        let log = vigil.log
        XCTAssertTrue(log.contains("model rejected"), log.suffix(3000).description)
        XCTAssertTrue(log.contains("SIGHUP received"), log.suffix(3000).description)

        let versions = try h.readAll(h.config.topics.decisions).map { json($0.value)["model_version"] as? String ?? "?" }
        let decided = versions.count
        XCTAssertGreaterThan(decided, 800)
        XCTAssertEqual(versions.first, "reload-v1")
        XCTAssertEqual(versions.last, "reload-v2-new", "the new model stays after the bad file")
        // Versions change once, in order: never back to v1.
        let switchIndex = try XCTUnwrap(versions.firstIndex(of: "reload-v2-new"))
        XCTAssertTrue(versions[..<switchIndex].allSatisfy { $0 == "reload-v1" })
        XCTAssertTrue(versions[switchIndex...].allSatisfy { $0 == "reload-v2-new" })
    }
}
