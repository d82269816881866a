import VigilCore

/// Scores a candidate model beside the active one for one batch, on the same feature vectors. Its verdicts go to
/// the shadow topic, keyed by transaction id, with the batch's other outputs (in the same Kafka transaction in
/// exactly-once mode), and are counted against the active verdicts. It never changes a decision, a feature record
/// or the card state. Cost per decision: one more 16-term score and one more message.
struct ShadowScorer {
    let model: CompiledModel
    /// This batch's emitted decisions by (active verdict, shadow verdict); added to the stats only when the batch
    /// succeeds, so a retried batch is counted once.
    var verdicts = VerdictPairs()

    /// nil when there is no shadow model.
    init?(_ model: CompiledModel?) {
        guard let model else { return nil }
        self.model = model
    }

    /// Scores decision `d` and lends its shadow message to `body` (the encoder's reused buffer, valid only inside).
    mutating func withMessage<R>(
        for d: Decision, encoder: inout OutputEncoder, _ body: (UnsafeRawBufferPointer) throws -> R
    ) rethrows -> R {
        let score = model.score(d.features)
        verdicts.add(active: d.verdict, shadow: score.verdict)
        return try encoder.withShadowDecision(d, shadow: score, shadowVersion: model.version, body)
    }
}

/// Counts of decisions by (active verdict, shadow verdict): nine cells, the diagonal is agreement.
public struct VerdictPairs: Sendable, Equatable {
    var counts = [Int](repeating: 0, count: Verdict.allCases.count * Verdict.allCases.count)

    public init() {}

    public subscript(active active: Verdict, shadow shadow: Verdict) -> Int {
        counts[Int(active.rawValue) * Verdict.allCases.count + Int(shadow.rawValue)]
    }

    mutating func add(active: Verdict, shadow: Verdict, count: Int = 1) {
        counts[Int(active.rawValue) * Verdict.allCases.count + Int(shadow.rawValue)] += count
    }

    mutating func add(_ other: VerdictPairs) {
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    public var total: Int { counts.reduce(0, +) }

    /// Decisions where both models gave the same verdict.
    public var agreeing: Int { Verdict.allCases.reduce(0) { $0 + self[active: $1, shadow: $1] } }
}

extension PipelineStats.Snapshot {
    /// Adds a batch's shadow counts. The counts belong to one shadow version: they start again from zero when the
    /// candidate changes, and disappear when shadow scoring stops.
    mutating func record(_ shadow: ShadowScorer?) {
        guard let shadow else {
            shadowModelVersion = nil
            shadowVerdicts = VerdictPairs()
            return
        }
        if shadowModelVersion != shadow.model.version {
            shadowModelVersion = shadow.model.version
            shadowVerdicts = VerdictPairs()
        }
        shadowVerdicts.add(shadow.verdicts)
    }
}
