import Foundation
import Kafka
import VigilTraffic

/// Publishes generated transactions to the input topic: a warm-up, an open-loop run on a fixed schedule, or a
/// backlog as fast as the producer goes. Registers each message in the ledger before producing it.
///
/// Used by one thread at a time (the main thread for the warm-up and backlog, its own thread for the open loop).
final class Publisher: @unchecked Sendable {
    // @unchecked Sendable: `source` is only touched by the one thread currently publishing (see above); the
    // producer is thread-safe and `status` is locked.
    struct Status: Sendable {
        var sent = 0
        var bytes = 0
        var produceErrors = 0
        var firstError: String?
        var finished = false
        /// The most the publisher fell behind its schedule (actual minus scheduled send time), ns.
        var maxBehindNs: Int64 = 0
        var delivered = 0
        var deliveryFailures = 0
        var deliveryErrors: [String] = []
    }

    let topic: String
    let ledger: Ledger
    let stop: StopFlag
    private let producer: KafkaProducer
    private var source: TrafficSource
    let status = Locked(Status())

    init(brokers: String, topic: String, lingerMs: Int, compression: String, source: TrafficSource, ledger: Ledger, stop: StopFlag) throws {
        producer = try KafkaProducer(config: [
            "bootstrap.servers": brokers,
            "client.id": "vigil-loadtest-publisher",
            "enable.idempotence": "true",
            "linger.ms": String(lingerMs),
            "compression.type": compression,
            "socket.nagle.disable": "true",
            "queue.buffering.max.messages": "1000000",
            "queue.buffering.max.kbytes": "1048576",
            "message.timeout.ms": "30000",
        ])
        self.topic = topic
        self.source = source
        self.ledger = ledger
        self.stop = stop
    }

    /// Sends warm-up messages (from their own source) and waits for their acknowledgement.
    func publishWarmup(_ messages: [GeneratedMessage]) throws {
        for message in messages { send(message, scheduledNs: MonotonicClock.nowNs()) }
        try flush(timeoutMs: 15_000)
    }

    /// Sends the schedule's messages, each at its due time counted from `startNs`, until done, stopped, or
    /// `deadlineNs` passes (a publisher that cannot keep up stops there and says so); then flushes.
    func runOpenLoop(_ schedule: OpenLoopSchedule, startNs: Int64, deadlineNs: Int64) {
        let total = schedule.total
        var i = 0
        var lastPoll = MonotonicClock.nowNs()
        while i < total, !stop.isSet {
            let now = MonotonicClock.nowNs()
            if now > deadlineNs { break }
            let due = schedule.due(at: Double(now - startNs) / 1e9)
            if i >= due {
                producer.poll(timeoutMs: 0)
                lastPoll = now
                let next = startNs + Int64(schedule.time(of: i) * 1e9)
                MonotonicClock.sleep(untilNs: min(next, now + 1_000_000))
                continue
            }
            while i < due {
                let t = schedule.time(of: i)
                let scheduledNs = startNs + Int64(t * 1e9)
                let (message, isAttack) = source.next(atSeconds: t)
                send(message, isAttack: isAttack, scheduledNs: scheduledNs)
                i += 1
                if i & 255 == 0 {
                    let now = MonotonicClock.nowNs()
                    if now - lastPoll > 2_000_000 {
                        producer.poll(timeoutMs: 0)
                        lastPoll = now
                    }
                }
            }
        }
        try? flush(timeoutMs: 30_000)
        status.withLock { $0.finished = true }
    }

    /// Sends `count` messages as fast as possible; message i happens at simulated second `i / nominalRate`, as if
    /// the traffic had arrived at that rate (the attack's share included, if any). Prints progress once a second. Flushes before returning.
    func publishBacklog(count: Int, nominalRate: Double, deadlineNs: Int64) throws {
        let start = MonotonicClock.nowNs()
        var nextReport = start + 1_000_000_000
        for i in 0..<count {
            if stop.isSet { break }
            let now = MonotonicClock.nowNs()
            if now > deadlineNs {
                throw LoadTestError("publishing the backlog took longer than allowed: \(i) of \(count) sent")
            }
            let (message, isAttack) = source.next(atSeconds: Double(i) / nominalRate)
            send(message, isAttack: isAttack, scheduledNs: now)
            if i & 1023 == 0, now >= nextReport {
                let seconds = Double(now - start) / 1e9
                Console.line(String(format: "  backlog %7d / %d  (%.0f/s)", i, count, Double(i) / seconds))
                nextReport += 1_000_000_000
            }
        }
        try flush(timeoutMs: 60_000)
        status.withLock { $0.finished = true }
    }

    private func send(_ message: GeneratedMessage, isAttack: Bool = false, scheduledNs: Int64) {
        let sentNs = MonotonicClock.nowNs()
        ledger.register(message, isAttack: isAttack, scheduledNs: scheduledNs, sentNs: sentNs)
        do {
            try producer.produce(topic: topic, key: message.key, value: message.value)
            status.withLock { s in
                s.sent += 1
                s.bytes += message.value.count + (message.key?.count ?? 0)
                s.maxBehindNs = max(s.maxBehindNs, sentNs - scheduledNs)
            }
        } catch {
            status.withLock { s in
                s.produceErrors += 1
                if s.firstError == nil { s.firstError = "\(error)" }
            }
        }
    }

    private func flush(timeoutMs: Int) throws {
        let outcome: DeliveryOutcome
        do {
            outcome = try producer.flush(timeoutMs: timeoutMs)
        } catch {
            let partial = producer.takeDeliveryOutcome()
            record(partial)
            throw LoadTestError("the publisher could not deliver its messages to Kafka: \(error)")
        }
        record(outcome)
    }

    private func record(_ outcome: DeliveryOutcome) {
        status.withLock { s in
            s.delivered += outcome.delivered
            s.deliveryFailures += outcome.failed
            for error in outcome.errors where s.deliveryErrors.count < 5 { s.deliveryErrors.append("\(error)") }
        }
    }
}
