import Foundation
import Kafka
import VigilCore
import VigilService
import VigilTraffic
import VigilTraining
import XCTest

/// The nightly loop end to end, with the built binary: `vigil serve` instances decide labelled traffic with the
/// baseline and write feature records; labels arrive; `vigil train` reads both from Kafka, trains, and publishes the
/// promoted model to Redis; every instance switches to it, and new traffic is decided by it.
final class RetrainingLoopTests: XCTestCase {
    static let startMs: Int64 = 1_764_000_000_000
    static let stepMs: Int64 = 4000

    func testNightlyRetrainingBeatsTheBaselineAndReachesEveryInstance() throws {
        let began = Date()
        let h = try Harness(partitions: 2)
        try h.cluster.createTopic("fraud.labels", partitions: 2)
        let redisAddress = "\(h.config.redisHost):\(h.config.redisPort)"
        let baseline = try ModelHolder(path: h.config.modelPath).model

        // Labelled traffic on a simulated clock: 18 h of history, then 5 h of fresh traffic for afterwards.
        let historyCount = 16_000, freshCount = 5000
        let messages = labelledTraffic(count: historyCount + freshCount, seed: 2026)
        let history = Array(messages[..<historyCount]), fresh = Array(messages[historyCount...])
        let historyFraud = history.filter { $0.truth?.isFraud == true }.count
        XCTAssertGreaterThan(historyFraud, 200, "enough fraud to learn from")

        // Two instances following Redis; nothing is published yet, so both start on the baseline file.
        let instances = try (0..<2).map {
            try VigilProcess(h, name: "loop-\($0)", extra: ["--model-source", "redis", "--http-port", "0"])
        }
        let ports = try instances.map { try XCTUnwrap(waitForHTTPPort($0), $0.log.suffix(2000).description) }
        for vigil in instances { XCTAssertTrue(vigil.log.contains("nothing usable published in redis yet"), vigil.log) }
        // The operator publishes what serves, so the nightly run compares with it.
        let published = try runVigil(["model", "publish", h.config.modelPath, "--redis", redisAddress])
        XCTAssertEqual(published.status, 0, published.output)

        try h.publish(history.map { ($0.key, $0.value) })
        XCTAssertTrue(h.waitForApplied(historyCount, timeout: 120), "history decided")
        // Chargebacks and case outcomes: every fraud is reported an hour later; legitimate traffic is not labelled
        // (training counts unlabelled transactions older than the maturity window as legitimate).
        try publishLabels(history.compactMap(\.truth).filter(\.isFraud), h)
        let servedHistory = Date()

        // The nightly run, against Kafka, publishing to Redis.
        let outputDir = FileManager.default.temporaryDirectory.appendingPathComponent("loop-\(UUID().uuidString)")
        let train = try runVigil([
            "train", "--brokers", h.config.brokers, "--publish-redis", redisAddress,
            "--output-dir", outputDir.path, "--promote-to", outputDir.appendingPathComponent("active.json").path,
            "--version", "loop-candidate-1", "--maturity-days", "0.2",
        ])
        XCTAssertEqual(train.status, 0, train.output)
        XCTAssertTrue(train.output.contains("PROMOTED"), train.output)
        XCTAssertTrue(train.output.contains("published to redis \(redisAddress) vigil:{model}:active"), train.output)
        XCTAssertTrue(train.output.contains("current model \(baseline.version) (redis"), "compared with what serves: \(train.output)")
        let trained = Date()
        let candidateFile = try ModelFile.parse(Data(contentsOf: outputDir.appendingPathComponent("candidate-loop-candidate-1.json")))
        let candidate = try CompiledModel(candidateFile)
        let validation = try XCTUnwrap(candidateFile.training?.object?["metrics"]?.object)
        let candidatePR = try XCTUnwrap(validation["candidate"]?.object?["pr_auc"]?.number)
        let baselinePR = try XCTUnwrap(validation["current"]?.object?["pr_auc"]?.number)
        XCTAssertGreaterThan(candidatePR, baselinePR, "validation PR AUC")

        // Every instance switches within a few polls, and says so in /metrics.
        for (vigil, port) in zip(instances, ports) {
            XCTAssertTrue(waitForModel("loop-candidate-1", port: port, timeout: 10), vigil.log.suffix(3000).description)
        }
        let switched = Date()

        // New traffic is decided by the new model, on both instances.
        try h.publish(fresh.map { ($0.key, $0.value) })
        XCTAssertTrue(h.waitForApplied(historyCount + freshCount, timeout: 60), "fresh traffic decided")
        for vigil in instances { XCTAssertNotNil(vigil.terminate()) }
        let freshIds = Set(fresh.compactMap { $0.truth?.transactionId })
        var versions: [String: Set<String>] = ["history": [], "fresh": []]
        for decision in try h.readAll(h.config.topics.decisions).map({ json($0.value) }) {
            let id = decision["transaction_id"] as? String ?? ""
            versions[freshIds.contains(id) ? "fresh" : "history"]!.insert(decision["model_version"] as? String ?? "?")
        }
        XCTAssertEqual(versions["history"], [baseline.version])
        XCTAssertEqual(versions["fresh"], ["loop-candidate-1"])
        for vigil in instances {
            XCTAssertTrue(vigil.log.contains("model.source=redis \(redisAddress) vigil:{model}:active"), vigil.log.suffix(3000).description)
        }

        // On traffic neither model has seen, the new one ranks fraud better.
        let (baselineAP, candidateAP) = heldOutPRAUC(messages, from: historyCount, baseline: baseline, candidate: candidate)
        XCTAssertGreaterThan(candidateAP, baselineAP, "held-out PR AUC")
        print("""
            retraining loop: \(historyFraud) fraud in \(historyCount) history transactions; validation PR AUC \
            candidate \(candidatePR) vs baseline \(baselinePR); held-out PR AUC candidate \(candidateAP) vs baseline \
            \(baselineAP); serving history \(secs(began, servedHistory)) s, training \(secs(servedHistory, trained)) s, \
            switch \(secs(trained, switched)) s, total \(secs(began, Date())) s
            """)
    }

    func testCandidateRunsInShadowUntilPromoted() throws {
        let h = try Harness(partitions: 2)
        h.config.mode = .atLeastOnce
        try h.cluster.createTopic("fraud.labels", partitions: 1)
        let redisAddress = "\(h.config.redisHost):\(h.config.redisPort)"
        let baseline = try ModelHolder(path: h.config.modelPath).model
        let messages = labelledTraffic(count: 11_000, seed: 77)
        let history = Array(messages[..<8000]), inShadow = Array(messages[8000..<10_000]), promoted = Array(messages[10_000...])

        let vigil = try VigilProcess(h, name: "shadow", extra: ["--model-source", "redis", "--http-port", "0"])
        let port = try XCTUnwrap(waitForHTTPPort(vigil), vigil.log.suffix(2000).description)
        try h.publish(history.map { ($0.key, $0.value) })
        XCTAssertTrue(h.waitForApplied(history.count, timeout: 90), "history decided")
        try publishLabels(history.compactMap(\.truth).filter(\.isFraud), h)

        // The nightly run publishes its candidate to the shadow slot: the instance scores it beside the baseline.
        let outputDir = FileManager.default.temporaryDirectory.appendingPathComponent("shadow-\(UUID().uuidString)")
        let activeFile = outputDir.appendingPathComponent("active.json")
        let train = try runVigil([
            "train", "--brokers", h.config.brokers, "--publish-redis", redisAddress, "--promote-to-shadow",
            "--current", h.config.modelPath, "--output-dir", outputDir.path, "--promote-to", activeFile.path,
            "--version", "shadow-candidate-1", "--maturity-days", "0.1",
        ])
        XCTAssertEqual(train.status, 0, train.output)
        XCTAssertTrue(train.output.contains("published to redis \(redisAddress) vigil:{model}:shadow"), train.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: activeFile.path), "a shadow candidate is not promoted")
        XCTAssertTrue(waitForMetric("vigil_shadow_model_info{version=\"shadow-candidate-1\"} 1", port: port, timeout: 10),
                      vigil.log.suffix(3000).description)

        try h.publish(inShadow.map { ($0.key, $0.value) })
        XCTAssertTrue(h.waitForApplied(history.count + inShadow.count, timeout: 60))
        let shadowIds = Set(inShadow.compactMap { $0.truth?.transactionId })
        // Every decision of the period is counted once by (active, shadow) verdict pair.
        var counted = 0.0
        let deadline = Date().addingTimeInterval(5)
        repeat {
            let metrics = (try? RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n").bodyText) ?? ""
            counted = metrics.split(separator: "\n")
                .filter { $0.hasPrefix("vigil_shadow_verdicts_total{shadow_version=\"shadow-candidate-1\"") }
                .compactMap { Double($0.split(separator: " ").last!) }.reduce(0, +)
        } while counted < Double(shadowIds.count) && Date() < deadline
        XCTAssertEqual(counted, Double(shadowIds.count))

        // Promoted by hand after looking at the shadow period: the instance switches and stops shadow scoring.
        let promote = try runVigil(["model", "promote-shadow", "--expect-version", "shadow-candidate-1", "--redis", redisAddress])
        XCTAssertEqual(promote.status, 0, promote.output)
        XCTAssertTrue(waitForModel("shadow-candidate-1", port: port, timeout: 10), vigil.log.suffix(3000).description)
        try h.publish(promoted.map { ($0.key, $0.value) })
        XCTAssertTrue(h.waitForApplied(messages.count, timeout: 60))
        XCTAssertNotNil(vigil.terminate())
        XCTAssertTrue(vigil.log.contains("shadow model withdrawn"), vigil.log.suffix(3000).description)

        let promotedIds = Set(promoted.compactMap { $0.truth?.transactionId })
        var verdicts: [String: String] = [:]
        for decision in try h.readAll(h.config.topics.decisions).map({ json($0.value) }) {
            let id = decision["transaction_id"] as? String ?? ""
            verdicts[id] = decision["verdict"] as? String
            XCTAssertEqual(decision["model_version"] as? String, promotedIds.contains(id) ? "shadow-candidate-1" : baseline.version)
        }
        let shadow = try h.readAll(h.config.topics.shadow).map { json($0.value) }
        XCTAssertEqual(Set(shadow.compactMap { $0["transaction_id"] as? String }), shadowIds, "exactly the shadow period")
        for s in shadow {
            XCTAssertEqual(s["model_version"] as? String, "shadow-candidate-1")
            XCTAssertEqual(s["active_model_version"] as? String, baseline.version)
            XCTAssertEqual(s["active_verdict"] as? String, verdicts[s["transaction_id"] as? String ?? ""])
        }
    }

    // MARK: - Helpers

    /// Card traffic with ground truth, one message every 4 s of simulated time: 3000 cards, 5% of them with fraud
    /// episodes, nothing malformed or late (every message gets a decision).
    func labelledTraffic(count: Int, seed: UInt64) -> [GeneratedMessage] {
        var profile = TrafficProfile()
        profile.cards = 3000
        profile.seed = seed
        profile.fraudCardFraction = 0.05
        profile.malformedFraction = 0
        profile.lateFraction = 0
        var generator = TrafficGenerator(profile: profile)
        return (0..<count).map { generator.next(nowMs: Self.startMs + Int64($0) * Self.stepMs) }
    }

    func publishLabels(_ truths: [GroundTruth], _ h: Harness) throws {
        let producer = try KafkaProducer(config: ["bootstrap.servers": h.cluster.bootstrapServers, "linger.ms": "5"])
        for truth in truths {
            try producer.produce(
                topic: "fraud.labels", key: Array(truth.transactionId.utf8),
                value: TrafficGenerator.labelJSON(for: truth, reportedAtMs: truth.eventTimeMs + 3_600_000))
        }
        XCTAssertEqual(try producer.flush(timeoutMs: 20_000).failed, 0)
    }

    /// PR AUC (average precision) of both models on the transactions from `start` on, with features computed as
    /// the service computes them, from every earlier transaction of the card.
    func heldOutPRAUC(_ messages: [GeneratedMessage], from start: Int, baseline: CompiledModel, candidate: CompiledModel)
        -> (baseline: Double, candidate: Double)
    {
        let step = ScoringStep(config: FeatureConfig())
        var states: [String: CardState] = [:]
        var clock = PartitionClock()
        var scores: (baseline: [Double], candidate: [Double]) = ([], [])
        var labels: [Bool] = []
        for (i, message) in messages.enumerated() {
            guard case .success(let tx) = TransactionDecoder.decode(value: message.value, key: message.key),
                  let truth = message.truth else { continue }
            var state = states[tx.cardId] ?? CardState()
            guard case .decided(let d) = step.process(
                tx, state: &state, clock: &clock, model: baseline, nowMs: 0, referenceMs: tx.eventTimeMs) else { continue }
            states[tx.cardId] = state
            guard i >= start else { continue }
            scores.baseline.append(d.score.value)
            scores.candidate.append(candidate.score(d.features).value)
            labels.append(truth.isFraud)
        }
        // The training library's PR AUC (tested by hand-computed values in VigilTrainingTests).
        return (Ranking.averagePrecision(scores: scores.baseline, labels: labels) ?? 0,
                Ranking.averagePrecision(scores: scores.candidate, labels: labels) ?? 0)
    }

    func waitForHTTPPort(_ vigil: VigilProcess, timeout: TimeInterval = 15) -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let log = vigil.log
            if let range = log.range(of: "http.port=") { return Int(log[range.upperBound...].prefix { $0.isNumber }) }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    func waitForModel(_ version: String, port: Int, timeout: TimeInterval) -> Bool {
        waitForMetric("vigil_model_info{version=\"\(version)\"} 1", port: port, timeout: timeout)
    }

    func waitForMetric(_ sample: String, port: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let metrics = try? RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n").bodyText,
               metrics.contains(sample) { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return false
    }

    func secs(_ a: Date, _ b: Date) -> String { String(format: "%.1f", b.timeIntervalSince(a)) }
}

/// Runs the `vigil` binary to completion; stdout and stderr together.
func runVigil(_ arguments: [String]) throws -> (status: Int32, output: String) {
    guard FileManager.default.isExecutableFile(atPath: vigilBinary.path) else {
        throw XCTSkip("vigil binary not built at \(vigilBinary.path); run `swift build` first")
    }
    let process = Process()
    process.executableURL = vigilBinary
    process.arguments = arguments
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-run-\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    process.waitUntilExit()
    try handle.close()
    return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
}

private extension JSONValue {
    var object: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    var number: Double? { if case .number(let n) = self { n } else { nil } }
}
