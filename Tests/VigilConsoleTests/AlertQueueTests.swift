import XCTest
@testable import VigilConsole

final class AlertQueueTests: XCTestCase {
    func testNewestFirstByDecisionTimeAndBounded() {
        var queue = AlertQueue(limits: .init(alerts: 3))
        queue.add(alert("a", decidedAtMs: 10))
        queue.add(alert("c", decidedAtMs: 30))
        queue.add(alert("b", decidedAtMs: 20))
        queue.add(alert("b", decidedAtMs: 99))  // a repeat (read again after a restart) changes nothing
        XCTAssertEqual(queue.entries.map(\.alert.transactionId), ["c", "b", "a"])
        queue.add(alert("d", decidedAtMs: 40))
        XCTAssertEqual(queue.entries.map(\.alert.transactionId), ["d", "c", "b"], "the oldest alert goes")
        XCTAssertNil(queue.entry(of: "a"))
    }

    func testFeaturesArriveBeforeOrAfterTheirAlert() {
        var queue = AlertQueue()
        queue.add(record("x"))
        queue.add(alert("x"))
        XCTAssertEqual(queue.entry(of: "x")?.features?["amount"], 12.5, "record first: found in the recent ring")
        queue.add(alert("y"))
        XCTAssertNil(queue.entry(of: "y")?.features)
        queue.add(record("y", amount: 99))
        XCTAssertEqual(queue.entry(of: "y")?.features?["amount"], 99, "record second: attached when it comes")
    }

    func testCardHistoryKeepsTheNewestTransactionsOfQueuedCardsOnly() {
        var queue = AlertQueue(limits: .init(alerts: 10, transactionsPerCard: 3))
        for i in 1...5 { queue.add(record("old-\(i)", card: "card-1", timeMs: Int64(i) * 100)) }
        queue.add(record("other", card: "card-2", timeMs: 50))
        queue.add(alert("old-5", card: "card-1"))
        XCTAssertEqual(queue.history["card-1"]?.map(\.transactionId), ["old-5", "old-4", "old-3"])
        XCTAssertNil(queue.history["card-2"], "no alert, no history")
        queue.add(record("new", card: "card-1", timeMs: 1000))
        queue.add(record("new", card: "card-1", timeMs: 1000))
        XCTAssertEqual(queue.history["card-1"]?.map(\.transactionId), ["new", "old-5", "old-4"])
        XCTAssertEqual(queue.history["card-1"]?.first?.amount, 12.5)
        XCTAssertEqual(queue.history["card-1"]?.first?.merchantId, "m-1")
    }

    func testHistoryGoesWithTheCardsLastAlert() {
        var queue = AlertQueue(limits: .init(alerts: 1))
        queue.add(record("a", card: "card-1"))
        queue.add(alert("a", card: "card-1", decidedAtMs: 1))
        queue.add(alert("b", card: "card-2", decidedAtMs: 2))
        XCTAssertNil(queue.history["card-1"])
        XCTAssertNotNil(queue.history["card-2"])
    }

    func testLabelsMakeAlertsWorkedWhicheverComesFirstAndTheLatestWins() {
        var queue = AlertQueue()
        queue.add(label: WorkedLabel(isFraud: false, reportedAtMs: 5, reportedBy: "ana", source: "console"), transactionId: "a")
        queue.add(alert("a"))
        queue.add(alert("b", decidedAtMs: 2000))
        XCTAssertEqual(queue.label(of: "a")?.reportedBy, "ana")
        XCTAssertEqual(queue.workedCount, 1)
        queue.add(label: WorkedLabel(isFraud: true, reportedAtMs: 4, reportedBy: "bo", source: "console"), transactionId: "a")
        XCTAssertEqual(queue.label(of: "a")?.reportedBy, "ana", "an older label does not replace a newer one")
        queue.add(label: WorkedLabel(isFraud: true, reportedAtMs: 5, reportedBy: "bo", source: "console"), transactionId: "a")
        XCTAssertEqual(queue.label(of: "a")?.isFraud, true, "at equal times fraud wins, as in vigil train")
    }

    func testLabelMemoryIsBounded() {
        var queue = AlertQueue(limits: .init(labels: 2))
        for id in ["a", "b", "c"] { queue.add(label: WorkedLabel(isFraud: true, reportedAtMs: 1, reportedBy: nil, source: nil), transactionId: id) }
        XCTAssertNil(queue.label(of: "a"))
        XCTAssertNotNil(queue.label(of: "c"))
    }

    func testFilterByVerdictScoreAndState() {
        var queue = AlertQueue()
        queue.add(alert("block-hi", verdict: "block", score: 0.95, decidedAtMs: 4))
        queue.add(alert("review-lo", verdict: "review", score: 0.6, decidedAtMs: 3))
        queue.add(alert("review-hi", verdict: "review", score: 0.8, decidedAtMs: 2))
        queue.add(label: WorkedLabel(isFraud: true, reportedAtMs: 1, reportedBy: "ana", source: "console"), transactionId: "review-hi")
        func ids(_ filter: QueueFilter) -> [String] { queue.select(filter).map(\.alert.transactionId) }
        XCTAssertEqual(ids(QueueFilter()), ["block-hi", "review-lo", "review-hi"])
        XCTAssertEqual(ids(QueueFilter(verdicts: ["review"])), ["review-lo", "review-hi"])
        XCTAssertEqual(ids(QueueFilter(minimumScore: 0.7)), ["block-hi", "review-hi"])
        XCTAssertEqual(ids(QueueFilter(state: .open)), ["block-hi", "review-lo"])
        XCTAssertEqual(ids(QueueFilter(state: .worked)), ["review-hi"])
        XCTAssertEqual(ids(QueueFilter(limit: 1)), ["block-hi"])
        XCTAssertEqual(ids(QueueFilter(query: ["verdict": "review,bogus", "min_score": "0.7", "state": "worked"])), ["review-hi"])
        XCTAssertEqual(ids(QueueFilter(query: ["min_score": "nan", "state": "??"])).count, 3, "unreadable parameters keep defaults")
    }

    func testDecodingSkipsWhatIsNotAnAlert() {
        let good = #"{"schema_version":1,"transaction_id":"tx-1","card_id":"card-7f","verdict":"block","score":0.97,"model_version":"m","reasons":[{"feature":"count_1m","contribution":2.41}],"event_time_ms":1,"decided_at_ms":5,"extra":true}"#
        XCTAssertEqual(ConsoleAlert.decode(Array(good.utf8))?.reasons.first?.contribution, 2.41)
        XCTAssertNil(ConsoleAlert.decode(Array(good.replacingOccurrences(of: "\"block\"", with: "\"approve\"").utf8)))
        XCTAssertNil(ConsoleAlert.decode(Array("not json".utf8)))
        let features = #"{"schema_version":2,"catalog_version":2,"transaction_id":"tx-1","card_id":"card-7f","merchant_id":"m-1","event_time_ms":1,"model_version":"m","merchant_risk_version":"none","score":0.5,"verdict":"review","features":{"amount":129.99,"count_1m":4}}"#
        XCTAssertEqual(FeatureSnapshot.decode(Array(features.utf8))?.summary.amount, 129.99)
        let v1 = features.replacingOccurrences(of: #""merchant_id":"m-1","#, with: "")
        XCTAssertNil(FeatureSnapshot.decode(Array(v1.utf8))?.merchantId)
        XCTAssertNotNil(FeatureSnapshot.decode(Array(v1.utf8)))
    }
}
