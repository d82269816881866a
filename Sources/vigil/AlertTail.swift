import Foundation
import Kafka
import ServiceLifecycle
import Synchronization

/// Reads `fraud.alerts` back from Kafka, as the fraud team would, and keeps the latest few for the dashboard.
final class AlertTail: Service, Sendable {
    struct Alert: Sendable {
        var cardId: String
        var verdict: String
        var score: Double
        var reasons: [(String, Double)]
        var receivedAt: Date
    }

    let consumer: KafkaConsumer
    let latest = Mutex<[Alert]>([])
    let total = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)

    init(brokers: String, topic: String, partitions: Int32) throws {
        consumer = try KafkaConsumer(config: [
            "bootstrap.servers": brokers, "group.id": "vigil-demo-alert-reader", "enable.auto.commit": "false",
            "client.id": "vigil-demo-alerts",
        ])
        var start: [TopicPartition: Int64] = [:]
        for p in 0..<partitions { start[TopicPartition(topic: topic, partition: p)] = KafkaOffset.beginning }
        try consumer.assign(start)
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    while !stop.load(ordering: .relaxed) {
                        guard let batch = try? consumer.pollBatch(maxMessages: 500, timeoutMs: 100) else { continue }
                        for message in batch { record(message.value) }
                    }
                    try? consumer.close()
                    done.resume()
                }
                thread.name = "vigil-demo-alerts"
                thread.start()
            }
        } onGracefulShutdown: { [self] in
            stop.store(true, ordering: .relaxed)
        }
    }

    private func record(_ value: [UInt8]) {
        total.add(1, ordering: .relaxed)
        guard let object = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any] else { return }
        let reasons = (object["reasons"] as? [[String: Any]] ?? []).compactMap { r -> (String, Double)? in
            guard let f = r["feature"] as? String, let c = r["contribution"] as? Double else { return nil }
            return (f, c)
        }
        let alert = Alert(
            cardId: object["card_id"] as? String ?? "?", verdict: object["verdict"] as? String ?? "?",
            score: object["score"] as? Double ?? 0, reasons: reasons, receivedAt: Date())
        latest.withLock { list in
            list.append(alert)
            if list.count > 5 { list.removeFirst(list.count - 5) }
        }
    }
}
