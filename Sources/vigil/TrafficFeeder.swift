import Foundation
import Kafka
import ServiceLifecycle
import Synchronization
import VigilTraffic

/// Publishes generated transactions to the input topic at a steady rate, on its own thread, until shutdown; and
/// publishes their labels on the labels topic as the fraud team would, each once the simulated clock has passed
/// its `reportedAtMs`.
final class TrafficFeeder: Service, Sendable {
    let brokers: String
    let topic: String
    let labelsTopic: String
    let rate: Int
    /// Simulated event-time seconds per wall-clock second, so a short demo covers days or weeks of card use.
    let timeScale: Double
    /// How long the demo runs, in wall-clock seconds. Event time starts `seconds x timeScale` in the past, so that
    /// it reaches the moment the demo started when the demo ends: running `timeScale` times faster from the wall
    /// clock, it would soon be more than a day ahead, and Vigil refuses transactions dated that far ahead
    /// (`FeatureConfig.maxFutureMs`). The feeder stops generating there, even if the demo has not stopped yet.
    let seconds: Int
    let profile: TrafficProfile
    /// Where the transactions, ground truth and published labels are written as well, if anywhere.
    let history: DemoHistory?
    /// Gets every transaction's ground truth as well, to tally Vigil's outcomes against, if set.
    let detection: DetectionRecorder?
    /// The simulated clock when the demo starts and ends: labels reported later are never published.
    let startMs: Int64
    let endMs: Int64
    let produced = Atomic<Int>(0)
    let malformed = Atomic<Int>(0)
    let late = Atomic<Int>(0)
    let fraud = Atomic<Int>(0)
    let compromised = Atomic<Int>(0)
    let labelsPublished = Atomic<Int>(0)
    let fraudLabelsPublished = Atomic<Int>(0)
    /// Labels still waiting for their report time when the traffic stopped; fraud never reported.
    let labelsPending = Atomic<Int>(0)
    let fraudNeverReported = Atomic<Int>(0)
    /// The simulated clock of the last message generated.
    let lastNowMs = Atomic<Int64>(0)
    let stop = Atomic<Bool>(false)

    init(
        brokers: String, topic: String, labelsTopic: String, rate: Int, timeScale: Double, seconds: Int,
        profile: TrafficProfile, history: DemoHistory?, detection: DetectionRecorder? = nil, wallStartMs: Int64
    ) {
        self.brokers = brokers
        self.topic = topic
        self.labelsTopic = labelsTopic
        self.rate = rate
        self.timeScale = timeScale
        self.seconds = seconds
        self.profile = profile
        self.history = history
        self.detection = detection
        endMs = wallStartMs
        startMs = wallStartMs - Int64((Double(seconds) * 1000 * timeScale).rounded())
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
        var labels = LabelQueue()
        let start = Date()
        var sent = 0
        var finished = false
        while !stop.load(ordering: .relaxed) {
            let elapsed = Date().timeIntervalSince(start)
            let due = Int(elapsed * Double(rate))
            if finished || sent >= due {
                Thread.sleep(forTimeInterval: 0.002)
                producer.poll(timeoutMs: 0)
                continue
            }
            while sent < due, !stop.load(ordering: .relaxed) {
                let nowMs = startMs + Int64(Date().timeIntervalSince(start) * 1000 * timeScale)
                if nowMs > endMs {
                    // The end of the simulated period: nothing after the moment the demo started.
                    finished = true
                    break
                }
                publishLabels(&labels, dueAt: nowMs, producer)
                let message = generator.next(nowMs: nowMs)
                lastNowMs.store(nowMs, ordering: .relaxed)
                do {
                    try producer.produce(topic: topic, key: message.key, value: message.value)
                } catch {
                    FileHandle.standardError.write(Data("demo traffic: produce failed: \(error)\n".utf8))
                }
                sent += 1
                produced.add(1, ordering: .relaxed)
                if message.malformed != nil { malformed.add(1, ordering: .relaxed) }
                if message.isLate { late.add(1, ordering: .relaxed) }
                guard let truth = message.truth else { continue }
                if truth.isFraud { fraud.add(1, ordering: .relaxed) }
                if truth.pattern == .compromisedMerchant { compromised.add(1, ordering: .relaxed) }
                if truth.isFraud, truth.reportedAtMs == nil { fraudNeverReported.add(1, ordering: .relaxed) }
                labels.add(truth)
                detection?.expect(truth)
                if let history {
                    history.transactions.write(message.value)
                    history.truth.write(TrafficGenerator.truthJSON(for: truth))
                }
            }
        }
        labelsPending.store(labels.count, ordering: .relaxed)
        _ = try? producer.flush(timeoutMs: 5000)
    }

    /// Publishes every queued label reported by `nowMs`, keyed by transaction id as the contract says.
    private func publishLabels(_ labels: inout LabelQueue, dueAt nowMs: Int64, _ producer: KafkaProducer) {
        while let truth = labels.popDue(atMs: nowMs), let label = TrafficGenerator.labelJSON(for: truth) {
            do {
                try producer.produce(topic: labelsTopic, key: Array(truth.transactionId.utf8), value: label)
            } catch {
                FileHandle.standardError.write(Data("demo traffic: producing a label failed: \(error)\n".utf8))
            }
            history?.labels.write(label)
            labelsPublished.add(1, ordering: .relaxed)
            if truth.isFraud { fraudLabelsPublished.add(1, ordering: .relaxed) }
        }
    }
}
