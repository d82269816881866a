import Kafka
import Logging
import ServiceLifecycle
import VigilTraining
import XCTest
@testable import VigilConsole

/// The console's Kafka edges against librdkafka's mock cluster: the feed fills the queue, a click's label is on
/// `fraud.labels` exactly once, also when the broker goes down while it is in flight and a retry comes meanwhile.
final class ConsoleKafkaTests: XCTestCase {
    func testAlertsArriveAndEachClickLabelsExactlyOnceThroughABrokerOutage() async throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        for topic in ["fraud.alerts", "fraud.features", "fraud.labels"] { try cluster.createTopic(topic, partitions: 2) }
        let brokers = ["bootstrap.servers": cluster.bootstrapServers]
        var logger = Logger(label: "console-test")
        logger.logLevel = .warning
        let desk = ConsoleDesk()
        let feed = ConsoleFeed(desk: desk, kafka: brokers, topics: ConsoleTopics(), lookback: .init(), probeIntervalMs: 200, logger: logger)
        let publisher = LabelPublisher(desk: desk, kafka: brokers, topic: "fraud.labels", logger: logger)
        let group = ServiceGroup(configuration: .init(services: [.init(service: feed), .init(service: publisher)], logger: logger))
        let running = Task { try await group.run() }

        let producer = try KafkaProducer(config: brokers)
        for id in ["tx-a", "tx-b"] {
            let a = alert(id, card: "card-\(id)", decidedAtMs: id == "tx-a" ? 10 : 20)
            let encoder = JSONEncoder()
            try producer.produce(topic: "fraud.features", key: Array(id.utf8), value: Array(try encoder.encode(record(id, card: a.cardId))))
            try producer.produce(topic: "fraud.alerts", key: Array(a.cardId.utf8), value: Array(try encoder.encode(a)))
        }
        _ = try producer.flush(timeoutMs: 10_000)
        try await until("both alerts are queued") { desk.queue.withLock { $0.entries.count } == 2 }
        XCTAssertEqual(desk.queue.withLock { $0.entries.map(\.alert.transactionId) }, ["tx-b", "tx-a"])
        XCTAssertEqual(desk.queue.withLock { $0.entry(of: "tx-a")?.features?["amount"] }, 12.5)

        // A click with Kafka up: delivered, and a retry of it produces nothing more.
        let first = ClickLedger.Click(clickId: "click-aaaa", transactionId: "tx-a", isFraud: true, analyst: "ana")
        guard case .produce(let label) = desk.click(first, nowMs: 100) else { return XCTFail("first click") }
        publisher.submit(label)
        try await until("the first label is delivered") { if case .delivered? = desk.state(of: "click-aaaa") { true } else { false } }
        guard case .alreadyDelivered = desk.click(first, nowMs: 101) else { return XCTFail("retry of a delivered click") }

        // The broker goes down: the click stays in flight, a retry waits, nothing is lost or doubled.
        try cluster.setBrokerDown(1)
        try await until("the console sees Kafka down") { !desk.health.withLock { $0.reachable } }
        let second = ClickLedger.Click(clickId: "click-bbbb", transactionId: "tx-b", isFraud: false, analyst: "bo")
        guard case .produce(let waiting) = desk.click(second, nowMs: 200) else { return XCTFail("second click") }
        publisher.submit(waiting)
        try await Task.sleep(for: .milliseconds(1500))
        guard case .inFlight? = desk.state(of: "click-bbbb") else { return XCTFail("in flight while Kafka is down") }
        XCTAssertEqual(desk.click(second, nowMs: 300), .wait)
        XCTAssertEqual(desk.health.withLock { $0.labelsWaiting }, 1)
        var rival = second
        rival.clickId = "click-cccc"
        XCTAssertEqual(desk.click(rival, nowMs: 300), .refuseInFlight(by: "bo"))
        try cluster.setBrokerUp(1)
        try await until("the second label is delivered after the outage", timeoutS: 30) {
            if case .delivered? = desk.state(of: "click-bbbb") { true } else { false }
        }
        try await until("the console sees Kafka up") { desk.health.withLock { $0.reachable } }
        try await until("both labels are read back") { desk.queue.withLock { $0.workedCount } == 2 }

        let labels = try readAll("fraud.labels", partitions: 2, brokers: cluster.bootstrapServers)
        XCTAssertEqual(labels.count, 2, "one label per click")
        let parsed = try labels.map { try LabelRecord.parse($0) }.sorted { $0.transactionId < $1.transactionId }
        XCTAssertEqual(parsed.map(\.transactionId), ["tx-a", "tx-b"])
        XCTAssertEqual(parsed.map(\.reportedBy), ["ana", "bo"])
        XCTAssertEqual(parsed.map(\.isFraud), [true, false])
        XCTAssertEqual(parsed.map(\.source), ["console", "console"])

        await group.triggerGracefulShutdown()
        try await running.value
    }

    func until(_ what: String, timeoutS: Double = 15, _ condition: @Sendable () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeoutS)
        while !condition() {
            if Date() > deadline {
                XCTFail("timed out waiting until \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func readAll(_ topic: String, partitions: Int32, brokers: String) throws -> [[UInt8]] {
        let consumer = try KafkaConsumer(config: ["bootstrap.servers": brokers])
        var start: [TopicPartition: Int64] = [:]
        var total: Int64 = 0
        for p in 0..<partitions {
            let tp = TopicPartition(topic: topic, partition: p)
            let marks = try consumer.watermarks(tp, timeoutMs: 5000)
            start[tp] = marks.low
            total += marks.high - marks.low
        }
        try consumer.assign(start)
        var values: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(10)
        while Int64(values.count) < total, Date() < deadline {
            values += try consumer.pollBatch(maxMessages: 100, timeoutMs: 200).map(\.value)
        }
        try consumer.close()
        return values
    }
}
