import Histogram
import Kafka
import VigilTraffic

/// Every transaction the tool published, keyed by a hash of its id, with when it was scheduled and sent, its ground
/// truth and its outcome; plus the latency histograms and counters the monitor and the report read.
///
/// Shared by the publisher (registers before producing), the outcome reader (records decisions, late and DLQ
/// messages) and the monitor (takes a per-second view). One lock guards everything; each party takes it once per
/// message (publisher) or once per polled batch (reader).
final class Ledger: Sendable {
    struct Entry {
        var scheduledNs: Int64
        var sentNs: Int64
        /// When the tool itself could first read the transaction from the input topic (open loop only; 0 until then).
        var inputReadableNs: Int64 = 0
        var truth: TruthFlags
        var outcome: Outcome
    }

    /// Counts split by phase: the warm-up and the measurement are kept apart.
    struct Counts: Sendable {
        var published = 0
        var malformedPublished = 0
        var generatorLatePublished = 0
        var fraudPublished = 0
        /// Decisions (first one per transaction), late and DLQ messages: every published message ends in one.
        var outcomes = 0
        var decisions = 0
        var late = 0
        var dlq = 0
        /// Alerts (not outcomes: each accompanies a review or block decision).
        var alerts = 0
        var reviewOrBlock = 0
        /// The card-testing attack's share of `published` and `decisions` (`LoadProfile.attack`).
        var attackPublished = 0
        var attackDecisions = 0
    }

    struct Snapshot: Sendable {
        var warmup: Counts
        var measured: Counts
        /// Decisions for a transaction already decided (at-least-once redelivery).
        var duplicates: Int
        /// Decisions and late messages for transactions this run did not publish.
        var foreign: Int
        /// Monotonic receive time of the first batch of measured outcomes, and how many outcomes it held.
        var firstOutcomeNs: Int64?
        var firstBatchOutcomes: Int
        var lastOutcomeNs: Int64?

        /// Measured transactions published but not yet seen in any output topic.
        var lag: Int { max(0, measured.published - measured.outcomes) }
    }

    struct State {
        var entries: [Entry] = []
        var index: [UInt64: Int32] = [:]
        var warmupPhase = true
        var warmup = Counts()
        var measured = Counts()
        var duplicates = 0
        var foreign = 0
        var firstOutcomeNs: Int64?
        var firstBatchOutcomes = 0
        var lastOutcomeNs: Int64?
        /// Decision latency in microseconds from the scheduled send time (corrects coordinated omission).
        var fromScheduled = Ledger.makeHistogram()
        /// Decision latency in microseconds from the moment `produce` was called.
        var fromSent = Ledger.makeHistogram()
        /// From the moment the transaction was readable on the input topic (by this tool's reader) to the moment its
        /// decision was: Vigil's consume, work and produce, without the publisher's side of the broker.
        var fromInputReadable = Ledger.makeHistogram()
        /// Like `fromScheduled`, for the decisions received since the monitor last took it.
        var second = Ledger.makeHistogram()
        /// The three latencies above for the attack card's payments, which the ones above leave out: with an attack,
        /// those are the normal traffic's.
        var attack = AttackLatencies()
    }

    struct AttackLatencies {
        var fromScheduled = Ledger.makeHistogram()
        var fromSent = Ledger.makeHistogram()
        var fromInputReadable = Ledger.makeHistogram()
    }

    let topics: OutputTopicNames
    private let state: Locked<State>

    init(topics: OutputTopicNames, expectedCount: Int) {
        self.topics = topics
        var initial = State()
        initial.entries.reserveCapacity(expectedCount)
        initial.index.reserveCapacity(expectedCount)
        state = Locked(initial)
    }

    static func makeHistogram() -> Histogram<UInt64> {
        // 1 us to 1 hour at 3 significant digits.
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
    }

    /// Ends the warm-up: from now on published messages and unattributable outcomes (DLQ) count as measured.
    func startMeasurement() {
        state.withLock { $0.warmupPhase = false }
    }

    /// Records a message about to be produced. Call before `produce`, so its outcome can never arrive first.
    func register(_ message: GeneratedMessage, isAttack: Bool = false, scheduledNs: Int64, sentNs: Int64) {
        var truth: TruthFlags = isAttack ? .attack : []
        if let label = message.truth {
            truth.insert(.labelled)
            if label.isFraud { truth.insert(.fraud) }
            truth.insert(.pattern(label.pattern.flatMap { FraudPattern.allCases.firstIndex(of: $0) }))
        }
        if message.isLate { truth.insert(.late) }
        if message.malformed != nil { truth.insert(.malformed) }
        let hash = message.truth.map { TransactionKey.hash($0.transactionId.utf8) }
        state.withLock { s in
            if s.warmupPhase { truth.insert(.warmup) }
            let position = Int32(s.entries.count)
            s.entries.append(Entry(scheduledNs: scheduledNs, sentNs: sentNs, truth: truth, outcome: .pending))
            if let hash { s.index[hash] = position }
            Self.count(&s, warmup: s.warmupPhase) { c in
                c.published += 1
                if truth.contains(.malformed) { c.malformedPublished += 1 }
                if truth.contains(.late) { c.generatorLatePublished += 1 }
                if truth.contains(.fraud) { c.fraudPublished += 1 }
                if truth.contains(.attack) { c.attackPublished += 1 }
            }
        }
    }

    /// Records a batch of messages read from the decisions, late and DLQ topics, received at `receivedNs`.
    func record(_ batch: [KafkaMessage], receivedNs: Int64) {
        guard !batch.isEmpty else { return }
        state.withLock { s in
            var measuredInBatch = 0
            for message in batch {
                if message.topic == topics.transactions {
                    // The reader also follows the input (open loop): remember when each transaction became readable.
                    guard let id = JSONPeek.stringValue("transaction_id", in: message.value),
                          let position = s.index[TransactionKey.hash(id)] else { continue }
                    if s.entries[Int(position)].inputReadableNs == 0 { s.entries[Int(position)].inputReadableNs = receivedNs }
                } else if message.topic == topics.decisions {
                    let hash = message.key.map { TransactionKey.hash($0) }
                        ?? JSONPeek.stringValue("transaction_id", in: message.value).map { TransactionKey.hash($0) }
                    guard let hash, let position = s.index[hash] else {
                        s.foreign += 1
                        continue
                    }
                    let verdict = JSONPeek.stringValue("verdict", in: message.value)?.first.flatMap(Outcome.init(verdictInitial:))
                    let i = Int(position)
                    guard s.entries[i].outcome == .pending else {
                        s.duplicates += 1
                        continue
                    }
                    s.entries[i].outcome = verdict ?? .approve
                    let entry = s.entries[i]
                    let warm = entry.truth.contains(.warmup)
                    let isAttack = entry.truth.contains(.attack)
                    Self.count(&s, warmup: warm) { c in
                        c.outcomes += 1
                        c.decisions += 1
                        if verdict == .review || verdict == .block { c.reviewOrBlock += 1 }
                        if isAttack { c.attackDecisions += 1 }
                    }
                    if !warm {
                        measuredInBatch += 1
                        let fromScheduled = UInt64(max(0, receivedNs - entry.scheduledNs) / 1000)
                        let fromSent = UInt64(max(0, receivedNs - entry.sentNs) / 1000)
                        let fromInput = entry.inputReadableNs > 0 ? UInt64(max(0, receivedNs - entry.inputReadableNs) / 1000) : nil
                        if isAttack {
                            s.attack.fromScheduled.record(fromScheduled)
                            s.attack.fromSent.record(fromSent)
                            if let fromInput { s.attack.fromInputReadable.record(fromInput) }
                        } else {
                            s.fromScheduled.record(fromScheduled)
                            s.fromSent.record(fromSent)
                            if let fromInput { s.fromInputReadable.record(fromInput) }
                            s.second.record(fromScheduled)
                        }
                    }
                } else if message.topic == topics.alerts {
                    // Keyed by card: matched to its transaction through the id in the value.
                    let warm = JSONPeek.stringValue("transaction_id", in: message.value)
                        .flatMap { s.index[TransactionKey.hash($0)] }
                        .map { s.entries[Int($0)].truth.contains(.warmup) } ?? s.warmupPhase
                    Self.count(&s, warmup: warm) { $0.alerts += 1 }
                } else if message.topic == topics.late {
                    guard let id = JSONPeek.stringValue("transaction_id", in: message.value),
                          let position = s.index[TransactionKey.hash(id)] else {
                        s.foreign += 1
                        continue
                    }
                    let i = Int(position)
                    guard s.entries[i].outcome == .pending else {
                        s.duplicates += 1
                        continue
                    }
                    s.entries[i].outcome = .late
                    let warm = s.entries[i].truth.contains(.warmup)
                    if !warm { measuredInBatch += 1 }
                    Self.count(&s, warmup: warm) { c in
                        c.outcomes += 1
                        c.late += 1
                    }
                } else if message.topic == topics.dlq {
                    // DLQ messages carry the original bytes, which may hold no usable id: attributed by phase.
                    if !s.warmupPhase { measuredInBatch += 1 }
                    Self.count(&s, warmup: s.warmupPhase) { c in
                        c.outcomes += 1
                        c.dlq += 1
                    }
                }
            }
            if measuredInBatch > 0 {
                if s.firstOutcomeNs == nil {
                    s.firstOutcomeNs = receivedNs
                    s.firstBatchOutcomes = measuredInBatch
                }
                s.lastOutcomeNs = receivedNs
            }
        }
    }

    var snapshot: Snapshot {
        state.withLock { s in
            Snapshot(
                warmup: s.warmup, measured: s.measured, duplicates: s.duplicates, foreign: s.foreign,
                firstOutcomeNs: s.firstOutcomeNs, firstBatchOutcomes: s.firstBatchOutcomes, lastOutcomeNs: s.lastOutcomeNs)
        }
    }

    /// The counts now and the latencies of decisions received since the previous call.
    func takeSecond() -> (Snapshot, Histogram<UInt64>) {
        var fresh = Ledger.makeHistogram()
        let snap = state.withLock { s in
            swap(&fresh, &s.second)
            return Snapshot(
                warmup: s.warmup, measured: s.measured, duplicates: s.duplicates, foreign: s.foreign,
                firstOutcomeNs: s.firstOutcomeNs, firstBatchOutcomes: s.firstBatchOutcomes, lastOutcomeNs: s.lastOutcomeNs)
        }
        return (snap, fresh)
    }

    /// The whole-run latency histograms (from the scheduled and the actual send time, and from the moment the input
    /// was readable), without the attack card's payments.
    var latencies: (fromScheduled: Histogram<UInt64>, fromSent: Histogram<UInt64>, fromInputReadable: Histogram<UInt64>) {
        state.withLock { ($0.fromScheduled, $0.fromSent, $0.fromInputReadable) }
    }

    /// The same for the attack card's payments alone.
    var attackLatencies: AttackLatencies {
        state.withLock { $0.attack }
    }

    /// Detection quality of the measured, labelled transactions that got a decision.
    func detectionQuality() -> DetectionQuality {
        state.withLock { s in
            var quality = DetectionQuality()
            for entry in s.entries where entry.outcome.isDecision && entry.truth.contains(.labelled) && !entry.truth.contains(.warmup) {
                quality.add(isFraud: entry.truth.contains(.fraud), outcome: entry.outcome, pattern: entry.truth.patternIndex)
            }
            return quality
        }
    }

    /// How many measured, well-formed messages never reached an output topic.
    func missingLabelled() -> Int {
        state.withLock { s in
            s.entries.reduce(0) { n, e in
                n + (e.outcome == .pending && e.truth.contains(.labelled) && !e.truth.contains(.warmup) ? 1 : 0)
            }
        }
    }

    private static func count(_ s: inout State, warmup: Bool, _ body: (inout Counts) -> Void) {
        if warmup { body(&s.warmup) } else { body(&s.measured) }
    }
}
