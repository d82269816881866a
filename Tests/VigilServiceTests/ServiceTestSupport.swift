import Foundation
import Kafka
import Logging
import Redis
import VigilCore
import VigilService
import VigilTraffic
import XCTest

/// The repository's `models/` folder.
let modelsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../models")
    .standardized

/// A mock Kafka cluster with Vigil's topics and a throwaway Redis, for one test.
final class Harness {
    let cluster: MockKafkaCluster
    let redis: RedisServerProcess
    let partitions: Int32
    var config: VigilConfig

    init(partitions: Int32 = 3, persistentRedis: Bool = false, brokers: Int = 1) throws {
        self.partitions = partitions
        cluster = try MockKafkaCluster(brokers: brokers)
        redis = try RedisServerProcess.start(persistence: persistentRedis)
        config = VigilConfig()
        config.brokers = cluster.bootstrapServers
        config.redisHost = redis.host
        config.redisPort = redis.port
        config.group = "vigil-test-\(UInt32.random(in: 0...UInt32.max))"
        config.sessionTimeoutMs = 6000
        config.modelPath = modelsDirectory.appendingPathComponent("baseline.json").path
        config.batchSize = 250
        config.batchWaitMs = 20
        config.firstStart = .earliest  // tests publish their traffic before the pipeline starts
        try config.topics.create(on: cluster, partitions: partitions)
    }

    deinit { redis.stop() }

    func publish(_ messages: [(key: [UInt8]?, value: [UInt8])], maxMessageBytes: Int = 1_000_000) throws {
        let producer = try KafkaProducer(config: [
            "bootstrap.servers": cluster.bootstrapServers, "enable.idempotence": "true", "linger.ms": "5",
            "message.max.bytes": String(maxMessageBytes),
        ])
        for m in messages { try producer.produce(topic: config.topics.transactions, key: m.key, value: m.value) }
        let outcome = try producer.flush(timeoutMs: 20_000)
        XCTAssertEqual(outcome.failed, 0, "publish failed: \(outcome.errors)")
    }

    /// Every message of `topic`, per partition in offset order.
    func readAll(_ topic: String) throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(config: [
            "bootstrap.servers": cluster.bootstrapServers, "group.id": "reader-\(UInt32.random(in: 0...UInt32.max))",
            "enable.auto.commit": "false", "enable.partition.eof": "false",
        ])
        defer { try? consumer.close() }
        var ends: [TopicPartition: Int64] = [:]
        var starts: [TopicPartition: Int64] = [:]
        for p in 0..<partitions {
            let tp = TopicPartition(topic: topic, partition: p)
            let w = try consumer.watermarks(tp, timeoutMs: 5000)
            // librdkafka's mock cluster keeps about 5 MB per partition and drops the oldest messages beyond it:
            // a test that writes more reads an incomplete topic, which would look like lost outputs.
            XCTAssertEqual(
                w.low, 0, "the mock cluster dropped the oldest \(w.low) messages of \(topic)/\(p) (it keeps ~5 MB per "
                    + "partition): spread the test over more partitions or write less")
            ends[tp] = w.high
            starts[tp] = KafkaOffset.beginning
        }
        let total = ends.values.reduce(0, +)
        try consumer.assign(starts)
        var messages: [KafkaMessage] = []
        let deadline = Date().addingTimeInterval(30)
        while messages.count < total, Date() < deadline {
            messages += try consumer.pollBatch(maxMessages: 5000, timeoutMs: 200)
        }
        XCTAssertEqual(Int64(messages.count), total, "could not read all of \(topic)")
        return messages.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }
    }

    func makePipeline(logLevel: Logger.Level = .warning) throws -> PipelineRunner {
        var logger = Logger(label: "vigil.test")
        logger.logLevel = logLevel
        let models = try ModelHolder(path: config.modelPath, catalog: config.featureCatalog)
        return PipelineRunner(try Pipeline(config: config, models: models, logger: logger))
    }
}

/// Runs a pipeline on its own thread; `stop()` waits until it has left the group.
final class PipelineRunner: @unchecked Sendable {
    let pipeline: Pipeline
    private let finished = DispatchSemaphore(value: 0)

    init(_ pipeline: Pipeline) {
        self.pipeline = pipeline
        let thread = Thread { [pipeline, finished] in
            pipeline.run()
            finished.signal()
        }
        thread.start()
    }

    /// Waits until the pipeline has finished with `count` records (decided, late or rejected).
    func waitForProcessed(_ count: Int, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if pipeline.stats.snapshot.processed >= count { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    private var stopped = false

    /// Stops the pipeline and waits for it; again does nothing.
    func stop() {
        guard !stopped else { return }
        stopped = true
        pipeline.requestStop()
        finished.wait()
    }
}

/// One valid contract transaction (EUR 10.00 at m-1, a grocery, in Germany) keyed by its card.
func transactionMessage(_ id: String, card: String, at t: Int64) -> (key: [UInt8]?, value: [UInt8]) {
    let json = """
        {"schema_version":1,"transaction_id":"\(id)","card_id":"\(card)","amount_minor":1000,"currency":"EUR",\
        "merchant_id":"m-1","mcc":"5411","country":"DE","channel":"pos","event_time_ms":\(t)}
        """
    return (Array(card.utf8), Array(json.utf8))
}

/// JSON object of a message value.
func json(_ bytes: [UInt8]) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
}

func header(_ message: KafkaMessage, _ name: String) -> String? {
    message.headers.first { $0.0 == name }.map { String(decoding: $0.1, as: UTF8.self) }
}

extension XCTestCase {
    /// Traffic of a few dozen cards, so every card builds a long history: fraud episodes, out-of-order, late and
    /// malformed messages, event time advancing 20 s per message.
    func traffic(count: Int, seed: UInt64 = 11, startMs: Int64 = 1_764_000_000_000) -> [(key: [UInt8]?, value: [UInt8])] {
        var profile = TrafficProfile()
        profile.cards = 40
        profile.seed = seed
        profile.fraudCardFraction = 0.15
        profile.outOfOrderFraction = 0.05
        profile.lateFraction = 0.01
        profile.malformedFraction = 0.02
        var generator = TrafficGenerator(profile: profile)
        return (0..<count).map { i in
            let m = generator.next(nowMs: startMs + Int64(i) * 20_000)
            return (m.key, m.value)
        }
    }

    @discardableResult
    func checkOutputs(
        _ h: Harness, allowIdenticalDuplicates: Bool = false, merchants: ContractOracle.MerchantSnapshots? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> Int {
        let model = try ModelHolder(path: h.config.modelPath).model
        let oracle = ContractOracle(
            input: try h.readAll(h.config.topics.transactions), model: model, config: h.config.features,
            catalog: h.config.featureCatalog, merchants: merchants)
        let t = h.config.topics
        return oracle.check(
            decisions: try h.readAll(t.decisions), alerts: try h.readAll(t.alerts), features: try h.readAll(t.features),
            late: try h.readAll(t.late), dlq: try h.readAll(t.dlq), model: model,
            allowIdenticalDuplicates: allowIdenticalDuplicates, file: file, line: line)
    }

}

/// A fresh temporary directory per test case: `setUpWithError` makes it, `tearDown` removes it.
class ScratchDirectoryTestCase: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes `text` to `name` in the directory; its path.
    func file(_ name: String, _ text: String) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }
}
