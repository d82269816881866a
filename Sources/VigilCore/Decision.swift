/// A scored transaction: what goes to `fraud.decisions`, `fraud.alerts` and `fraud.features`.
public struct Decision: Sendable, Equatable {
    public var transaction: Transaction
    public var features: FeatureVector
    public var score: Score
    public var modelVersion: String
    public var decidedAtMs: Int64

    public init(transaction: Transaction, features: FeatureVector, score: Score, modelVersion: String, decidedAtMs: Int64) {
        self.transaction = transaction
        self.features = features
        self.score = score
        self.modelVersion = modelVersion
        self.decidedAtMs = decidedAtMs
    }

    public var verdict: Verdict { score.verdict }
    /// Reviews and blocks raise an alert for the fraud team.
    public var raisesAlert: Bool { score.verdict != .approve }
}

/// Where one input record ended.
public enum RecordOutcome: Sendable {
    /// Accepted and scored.
    case decided(Decision)
    /// Beyond the allowed lateness: goes to `fraud.late` unscored, state unchanged.
    case late(Transaction, watermarkMs: Int64, behindMs: Int64)
    /// Not acceptable: goes to `fraud.dlq` with the reason.
    case rejected(RejectReason)
}

/// The pure per-record step of the pipeline: late check, features from the card's state, score, state update.
public struct ScoringStep: Sendable {
    public var config: FeatureConfig

    public init(config: FeatureConfig) { self.config = config }

    /// Processes one decoded record of a partition, in partition order. `state` is the card's state (updated in place
    /// when the transaction is accepted); `clock` is the partition's clock.
    public func process(
        _ tx: Transaction, state: inout CardState, clock: inout PartitionClock, model: CompiledModel, nowMs: Int64
    ) -> RecordOutcome {
        if clock.lateness(of: tx.eventTimeMs, config) != nil, let watermark = clock.watermark(config) {
            return .late(tx, watermarkMs: watermark, behindMs: watermark - tx.eventTimeMs)
        }
        let amount = tx.amount
        let features = state.features(for: tx, amount: amount, config: config)
        let score = model.score(features)
        clock.observe(tx.eventTimeMs)
        state.apply(tx, amount: amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
        return .decided(Decision(
            transaction: tx, features: features, score: score, modelVersion: model.version, decidedAtMs: nowMs))
    }
}
