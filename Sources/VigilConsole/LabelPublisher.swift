import Foundation
import Kafka
import Logging
import ServiceLifecycle
import Synchronization

/// Produces the analysts' labels to `fraud.labels` with librdkafka's idempotent producer, on its own thread, and
/// tells the desk each one's delivery report.
///
/// `enable.idempotence` makes librdkafka's own retries (a broker blip, a lost acknowledgement) write a message at
/// most once. A label is in flight until its report arrives: delivered, or failed after `message.timeout.ms`.
/// While Kafka does not answer, labels wait in librdkafka's queue; the HTTP request gives up waiting after its
/// own bound, but the label stays in flight and is delivered when Kafka answers.
public final class LabelPublisher: Service, Sendable {
    let desk: ConsoleDesk
    let config: [String: String]
    let topic: String
    let logger: Logger
    let shutdownTimeoutMs: Int
    private let pending = Mutex([ConsoleLabel]())
    private let wake = DispatchSemaphore(value: 0)
    private let stop = Atomic<Bool>(false)

    /// `config`: librdkafka properties; `enable.idempotence` is forced on, `message.timeout.ms` defaults to 5 min.
    public init(desk: ConsoleDesk, kafka config: [String: String], topic: String, shutdownTimeoutMs: Int = 10_000, logger: Logger) {
        var settings = config
        settings["enable.idempotence"] = "true"
        settings["acks"] = "all"
        settings["message.timeout.ms"] = settings["message.timeout.ms"] ?? "300000"
        settings["client.id"] = settings["client.id"] ?? "vigil-console-labels"
        self.desk = desk
        self.config = settings
        self.topic = topic
        self.shutdownTimeoutMs = shutdownTimeoutMs
        self.logger = logger
    }

    /// Queues a label for producing (the desk has it in flight already).
    public func submit(_ label: ConsoleLabel) {
        pending.withLock { $0.append(label) }
        wake.signal()
    }

    public func run() async throws {
        let producer = try KafkaProducer(config: config)
        // A graceful shutdown or a cancellation (the group cancels its services when one fails) ends the loop.
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                    let thread = Thread { [self] in
                        publish(producer)
                        done.resume()
                    }
                    thread.name = "vigil-console-labels"
                    thread.start()
                }
            } onGracefulShutdown: { [self] in
                stop.store(true, ordering: .relaxed)
                wake.signal()
            }
        } onCancel: { [self] in
            stop.store(true, ordering: .relaxed)
            wake.signal()
        }
    }

    private func publish(_ producer: KafkaProducer) {
        var inFlight: [Int: ConsoleLabel] = [:]
        var nextTag = 0
        while true {
            let stopping = stop.load(ordering: .relaxed)
            for label in pending.withLock({ list in defer { list.removeAll() }; return list }) {
                let tag = nextTag
                nextTag += 1
                let key = label.key
                let value = label.json
                let failure: KafkaError? = key.withUnsafeBytes { k in
                    value.withUnsafeBytes { v in
                        do throws(KafkaError) {
                            try producer.produce(topic: topic, key: k, value: v, tag: tag)
                            return nil
                        } catch {
                            return error
                        }
                    }
                }
                if let failure {
                    logger.error("producing a label failed", metadata: ["transaction_id": "\(label.transactionId)", "error": "\(failure)"])
                    desk.failed(label, reason: failure.message)
                } else {
                    inFlight[tag] = label
                }
            }
            desk.health.withLock { $0.labelsWaiting = inFlight.count }
            if inFlight.isEmpty {
                if stopping { return }
                _ = wake.wait(timeout: .now() + .milliseconds(200))
                continue
            }
            do {
                let outcome = try producer.flush(timeoutMs: stopping ? shutdownTimeoutMs : 100)
                // flush returned: every message produced so far has its report; the failed ones are tagged.
                let failed = Dictionary(outcome.failedTags.map { ($0.tag, $0.code) }, uniquingKeysWith: { a, _ in a })
                let maybeWritten = Set(outcome.possiblyPersistedTags)
                for (tag, label) in inFlight {
                    if let code = failed[tag], maybeWritten.contains(tag) {
                        logger.warning("a label's delivery is uncertain (it may be on the topic); waiting to read it back", metadata: [
                            "transaction_id": "\(label.transactionId)", "code": "\(code)"])
                        desk.uncertain(label, nowMs: ConsoleClock.nowMs())
                    } else if let code = failed[tag] {
                        logger.error("a label was not delivered", metadata: ["transaction_id": "\(label.transactionId)", "code": "\(code)"])
                        desk.failed(label, reason: "Kafka did not take the label (error \(code))")
                    } else {
                        logger.info("label delivered", metadata: [
                            "transaction_id": "\(label.transactionId)", "is_fraud": "\(label.isFraud)", "analyst": "\(label.reportedBy)"])
                        desk.delivered(label)
                    }
                }
                inFlight.removeAll()
                desk.health.withLock { $0.labelsWaiting = 0 }
            } catch {
                if stopping {
                    logger.error("labels still undelivered at shutdown", metadata: ["count": "\(inFlight.count)"])
                    for label in inFlight.values { desk.failed(label, reason: "the console stopped before Kafka acknowledged it") }
                    producer.purge()
                    return
                }
            }
        }
    }
}
