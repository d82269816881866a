import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization
import VigilTraining

/// Reads `fraud.alerts`, `fraud.features` and `fraud.labels` into the desk's queue, on its own thread.
///
/// No consumer group: the console assigns every partition from a lookback (the newest `lookback` records of
/// each), so a restart shows the recent queue again, with the labels that make alerts worked. While Kafka is
/// unreachable it keeps retrying, the page keeps what it has, and `health` says so.
public final class ConsoleFeed: Service, Sendable {
    public struct Lookback: Sendable, Equatable {
        public var alerts: Int64
        public var features: Int64
        public var labels: Int64

        public init(alerts: Int64 = 1000, features: Int64 = 20_000, labels: Int64 = 100_000) {
            self.alerts = alerts
            self.features = features
            self.labels = labels
        }
    }

    let desk: ConsoleDesk
    let config: [String: String]
    let topics: ConsoleTopics
    let lookback: Lookback
    let logger: Logger
    let stop = Atomic<Bool>(false)
    /// How often the feed asks a broker whether it answers.
    let probeIntervalMs: Int64

    public init(
        desk: ConsoleDesk, kafka config: [String: String], topics: ConsoleTopics, lookback: Lookback,
        probeIntervalMs: Int64 = 1000, logger: Logger
    ) {
        self.desk = desk
        self.config = config
        self.topics = topics
        self.lookback = lookback
        self.probeIntervalMs = probeIntervalMs
        self.logger = logger
    }

    /// Reads until a graceful shutdown or a cancellation (the group cancels its services when one of them fails,
    /// e.g. the HTTP server cannot bind): either stops the thread's loop.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                    let thread = Thread { [self] in
                        do {
                            try consume()
                            done.resume()
                        } catch {
                            done.resume(throwing: error)
                        }
                    }
                    thread.name = "vigil-console-feed"
                    thread.start()
                }
            } onGracefulShutdown: { [self] in
                stop.store(true, ordering: .relaxed)
            }
        } onCancel: { [self] in
            stop.store(true, ordering: .relaxed)
        }
    }

    private func consume() throws {
        var settings = config
        settings["client.id"] = settings["client.id"] ?? "vigil-console-feed"
        settings["enable.partition.eof"] = "false"
        let consumer = try KafkaConsumer(config: settings)
        defer { try? consumer.close() }
        var assigned = false
        var nextProbeMs: Int64 = 0
        while !stop.load(ordering: .relaxed) {
            let now = ConsoleClock.nowMs()
            if now >= nextProbeMs {
                nextProbeMs = now + probeIntervalMs
                probe(consumer)
                if !assigned { assigned = assign(consumer) }
            }
            guard assigned else {
                Thread.sleep(forTimeInterval: 0.1)
                continue
            }
            do {
                let batch = try consumer.pollBatch(maxMessages: 1000, timeoutMs: 100)
                if !batch.isEmpty { take(batch) }
            } catch {
                logger.warning("reading the console's topics failed", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
    }

    /// Asks a broker for metadata; the banner follows the answer.
    private func probe(_ consumer: KafkaConsumer) {
        var detail: String?
        do { try consumer.probeCluster(timeoutMs: 1000) } catch { detail = error.message }
        if detail == nil, let recent = consumer.recentClientError(withinMs: 1500) { detail = recent.message }
        let reachable = detail == nil
        let changed = desk.health.withLock { health -> Bool in
            let was = health.reachable
            health.observe(reachable: reachable, detail: detail, nowMs: ConsoleClock.nowMs())
            return was != reachable
        }
        if changed {
            if reachable { logger.info("Kafka answers again") }
            else { logger.warning("Kafka does not answer: the console shows what it has", metadata: ["error": "\(detail ?? "")"]) }
        }
    }

    /// Assigns every partition of the three topics from its lookback; false (try again later) if Kafka cannot say.
    private func assign(_ consumer: KafkaConsumer) -> Bool {
        var start: [TopicPartition: Int64] = [:]
        do {
            for (topic, back) in [(topics.alerts, lookback.alerts), (topics.features, lookback.features), (topics.labels, lookback.labels)] {
                let count = try consumer.partitionCount(of: topic, timeoutMs: 2000)
                for p in 0..<count {
                    let tp = TopicPartition(topic: topic, partition: p)
                    let marks = try consumer.watermarks(tp, timeoutMs: 2000)
                    start[tp] = max(marks.low, marks.high - back)
                }
            }
            try consumer.assign(start)
        } catch {
            logger.warning("cannot assign the console's topics yet; retrying", metadata: ["error": "\(error)"])
            return false
        }
        logger.info("reading the console's topics", metadata: ["partitions": "\(start.count)"])
        return true
    }

    private func take(_ batch: [KafkaMessage]) {
        var alerts: [ConsoleAlert] = []
        var records: [FeatureSnapshot] = []
        var labels: [(String, WorkedLabel)] = []
        for message in batch {
            switch message.topic {
            case topics.alerts:
                if let alert = ConsoleAlert.decode(message.value) { alerts.append(alert) } else { desk.skip("alerts") }
            case topics.features:
                if let record = FeatureSnapshot.decode(message.value) { records.append(record) } else { desk.skip("features") }
            case topics.labels:
                do throws(RecordError) {
                    let label = try LabelRecord.parse(message.value)
                    labels.append((label.transactionId, WorkedLabel(
                        isFraud: label.isFraud, reportedAtMs: label.reportedAtMs, reportedBy: label.reportedBy, source: label.source)))
                } catch {
                    desk.skip("labels")
                }
            default:
                continue
            }
        }
        desk.queue.withLock { queue in
            // Features first, so an alert of the same batch finds its record.
            for record in records { queue.add(record) }
            for alert in alerts { queue.add(alert) }
            for (id, label) in labels { queue.add(label: label, transactionId: id) }
        }
    }
}
