import Foundation
import Kafka
import ServiceLifecycle
import Synchronization
import VigilTraffic

/// Publishes generated transactions to the input topic at a steady rate, on its own thread, until shutdown.
final class TrafficFeeder: Service, Sendable {
    let brokers: String
    let topic: String
    let rate: Int
    /// Simulated event-time seconds per wall-clock second, so a short demo shows realistic per-card rhythms.
    let timeScale: Double
    /// How long the demo runs, in wall-clock seconds. Event time starts `seconds x timeScale` in the past, so that
    /// it reaches the moment the demo started when the demo ends: running `timeScale` times faster from the wall
    /// clock, it would be more than a day ahead after 144 s at 600x, and Vigil refuses transactions dated that far
    /// ahead (`FeatureConfig.maxFutureMs`).
    let seconds: Int
    let profile: TrafficProfile
    let produced = Atomic<Int>(0)
    let malformed = Atomic<Int>(0)
    let late = Atomic<Int>(0)
    let fraud = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)

    init(brokers: String, topic: String, rate: Int, timeScale: Double, seconds: Int, profile: TrafficProfile) {
        self.brokers = brokers
        self.topic = topic
        self.rate = rate
        self.timeScale = timeScale
        self.seconds = seconds
        self.profile = profile
    }

    func run() async throws {
        let producer = try KafkaProducer(config: [
            "bootstrap.servers": brokers, "client.id": "vigil-demo-traffic", "linger.ms": "5",
            "enable.idempotence": "true",
        ])
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    feed(producer)
                    done.resume()
                }
                thread.name = "vigil-demo-traffic"
                thread.start()
            }
        } onGracefulShutdown: { [self] in
            stop.store(true, ordering: .relaxed)
        }
    }

    private func feed(_ producer: KafkaProducer) {
        var generator = TrafficGenerator(profile: profile)
        let start = Date()
        let startMs = start.timeIntervalSince1970 * 1000 - Double(seconds) * 1000 * timeScale
        var sent = 0
        while !stop.load(ordering: .relaxed) {
            let due = Int(Date().timeIntervalSince(start) * Double(rate))
            if sent >= due {
                Thread.sleep(forTimeInterval: 0.002)
                producer.poll(timeoutMs: 0)
                continue
            }
            while sent < due, !stop.load(ordering: .relaxed) {
                let nowMs = Int64(startMs + Date().timeIntervalSince(start) * 1000 * timeScale)
                let message = generator.next(nowMs: nowMs)
                do {
                    try producer.produce(topic: topic, key: message.key, value: message.value)
                } catch {
                    FileHandle.standardError.write(Data("demo traffic: produce failed: \(error)\n".utf8))
                }
                sent += 1
                produced.add(1, ordering: .relaxed)
                if message.malformed != nil { malformed.add(1, ordering: .relaxed) }
                if message.isLate { late.add(1, ordering: .relaxed) }
                if message.truth?.isFraud == true { fraud.add(1, ordering: .relaxed) }
            }
        }
        _ = try? producer.flush(timeoutMs: 5000)
    }
}
