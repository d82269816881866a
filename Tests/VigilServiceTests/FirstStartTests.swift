import Foundation
import Kafka
import VigilCore
import VigilService
import XCTest

/// A first deployment on a topic that already holds history (README, "First start"): `warm` rebuilds the card state
/// from it without outputs and decides only what comes after; `latest` decides only what comes after, from empty
/// state; `earliest` decides everything. Before the policy existed every first start was `earliest`: a topic with
/// days of retention was scored and alerted on days-old payments.
final class FirstStartTests: XCTestCase {
    let minute: Int64 = 60_000

    /// History of 3 cards already on the topic, then 3 new transactions (one per card) published after the start.
    func run(_ policy: FirstStart) throws -> (decided: [String], newFeatures: [String: [String: Any]], h: Harness) {
        let h = try Harness(partitions: 2)
        h.config.firstStart = policy
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var history: [(key: [UInt8]?, value: [UInt8])] = []
        for i in 0..<30 { history.append(transactionMessage("old-\(i)", card: "card-w\(i % 3)", at: now - 50 * minute + Int64(i) * minute)) }
        try h.publish(history)
        let runner = try h.makePipeline()
        defer { runner.stop() }
        XCTAssertTrue(waitFor { runner.pipeline.stats.snapshot.assignedPartitions == 2 }, "partitions assigned")
        if policy != .latest { XCTAssertTrue(runner.waitForProcessed(30), "history consumed") }
        let processedBefore = runner.pipeline.stats.snapshot.processed
        try h.publish((0..<3).map { transactionMessage("new-\($0)", card: "card-w\($0)", at: now - 5 * minute + Int64($0)) })
        XCTAssertTrue(runner.waitForProcessed(processedBefore + 3), "new transactions decided")
        let decisions = try h.readAll(h.config.topics.decisions).map { json($0.value) }
        var features: [String: [String: Any]] = [:]
        for record in try h.readAll(h.config.topics.features).map({ json($0.value) }) {
            if let id = record["transaction_id"] as? String, id.hasPrefix("new-") { features[id] = record["features"] as? [String: Any] }
        }
        return (decisions.compactMap { $0["transaction_id"] as? String }.sorted(), features, h)
    }

    func waitFor(_ condition: () -> Bool, timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    func testWarmRebuildsStateFromTheHistoryAndDecidesOnlyWhatComesAfter() throws {
        let (decided, features, h) = try run(.warm)
        XCTAssertEqual(decided, ["new-0", "new-1", "new-2"], "nothing of the history is decided")
        for (id, f) in features {
            // Each card has 10 historical payments within the last hour: the rebuilt state counts them.
            XCTAssertEqual(f["count_1h"] as? Double, 10, "\(id): the history is in the card state")
        }
        XCTAssertEqual(features.count, 3)
        XCTAssertEqual(try h.readAll(h.config.topics.alerts).filter { json($0.value)["transaction_id"].map { "\($0)".hasPrefix("old-") } ?? false }.count, 0)

        // The mark is the group's offset: a restart (or a crash during the warm-up) does not decide the history.
        let again = try h.makePipeline()
        try h.publish([transactionMessage("new-3", card: "card-w0", at: Int64(Date().timeIntervalSince1970 * 1000))])
        XCTAssertTrue(again.waitForProcessed(1))
        again.stop()
        let all = try h.readAll(h.config.topics.decisions).compactMap { json($0.value)["transaction_id"] as? String }
        XCTAssertEqual(all.sorted(), ["new-0", "new-1", "new-2", "new-3"])
    }

    func testLatestDecidesOnlyWhatComesAfterFromEmptyState() throws {
        let (decided, features, h) = try run(.latest)
        XCTAssertEqual(decided, ["new-0", "new-1", "new-2"])
        for (id, f) in features { XCTAssertEqual(f["count_1h"] as? Double, 0, "\(id): no history in the state") }

        // Redis records where the state begins: a restart (a new claim) does not replay the history into it either.
        let again = try h.makePipeline()
        try h.publish([transactionMessage("new-3", card: "card-w0", at: Int64(Date().timeIntervalSince1970 * 1000))])
        XCTAssertTrue(again.waitForProcessed(1))
        again.stop()
        let records = try h.readAll(h.config.topics.features).map { json($0.value) }
        let last = records.first { $0["transaction_id"] as? String == "new-3" }?["features"] as? [String: Any]
        XCTAssertEqual(last?["count_1h"] as? Double, 1, "only new-0 is in card-w0's state")
    }

    func testEarliestDecidesEverythingRetained() throws {
        let (decided, _, _) = try run(.earliest)
        XCTAssertEqual(decided.count, 33)
    }

    func testANegativeLookbackIsRefused() throws {
        var config = VigilConfig()
        config.firstStartLookbackMs = -1
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertTrue("\(error)".contains("first-start lookback"), "\(error)")
        }
    }
}
