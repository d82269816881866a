/// A scored transaction: what goes to `fraud.decisions`, `fraud.alerts` and `fraud.features`.
public struct Decision: Sendable, Equatable {
    public var transaction: Transaction
    public var features: FeatureVector
    public var score: Score
    public var modelVersion: String
    public var decidedAtMs: Int64
    /// The merchant-risk snapshot the merchant features came from; nil when none was served for this transaction
    /// (catalog 1, nothing published, or the lookup failed: the features are `MerchantRiskFeatures.noSnapshot`).
    public var merchantRiskVersion: String?

    public init(
        transaction: Transaction, features: FeatureVector, score: Score, modelVersion: String, decidedAtMs: Int64,
        merchantRiskVersion: String? = nil
    ) {
        self.transaction = transaction
        self.features = features
        self.score = score
        self.modelVersion = modelVersion
        self.decidedAtMs = decidedAtMs
        self.merchantRiskVersion = merchantRiskVersion
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
    /// Not acceptable (the decoder refused it, or it is dated too far ahead): goes to `fraud.dlq` with the reason.
    case rejected(RejectReason)
}

/// The pure per-record step of the pipeline: future and late checks, features from the card's state, score, state
/// update.
public struct ScoringStep: Sendable {
    public var config: FeatureConfig

    public init(config: FeatureConfig) { self.config = config }

    /// Processes one decoded record of a partition, in partition order. `state` is the card's state (updated in place
    /// when the transaction is accepted); `clock` is the partition's clock. `referenceMs` is the time the future bound
    /// is measured from (`ScoringStep.referenceMs(nowMs:messageTimestampMs:)`); `nowMs` stamps the decision.
    /// `merchant` holds the merchant features from the snapshot named `merchantRiskVersion` (nil: none served).
    public func process(
        _ tx: Transaction, state: inout CardState, clock: inout PartitionClock, model: CompiledModel, nowMs: Int64,
        referenceMs: Int64, merchant: MerchantRiskFeatures = .noSnapshot, merchantRiskVersion: String? = nil
    ) -> RecordOutcome {
        // First: a transaction dated too far ahead must not move the clock, which would make the partition's later
        // transactions late, nor reach the card's state.
        if config.isTooFarAhead(tx.eventTimeMs, referenceMs: referenceMs) {
            return .rejected(TransactionField.eventTimeMs.reasons.outOfRange)
        }
        if clock.lateness(of: tx.eventTimeMs, config) != nil, let watermark = clock.watermark(config) {
            return .late(tx, watermarkMs: watermark, behindMs: watermark - tx.eventTimeMs)
        }
        let amount = tx.amount
        var features = state.features(for: tx, amount: amount, config: config)
        features.setMerchant(merchant)
        let score = model.score(features)
        clock.observe(tx.eventTimeMs)
        state.apply(tx, amount: amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
        return .decided(Decision(
            transaction: tx, features: features, score: score, modelVersion: model.version, decidedAtMs: nowMs,
            merchantRiskVersion: merchantRiskVersion))
    }

    /// The time a record's future bound is measured from: the wall clock `nowMs`, or the record's Kafka timestamp when
    /// it has one and it is earlier.
    ///
    /// Outcomes must be a function of the partition's records in order, also when the log is replayed into Redis days
    /// later (state repair, docs/state.md), when the wall clock has moved on but the record's timestamp has not. A
    /// record whose timestamp `ts` was not ahead of the wall clock when it was first decided is measured from `ts`
    /// then and on every replay, so it is accepted or refused the same way. The exception is a record whose timestamp
    /// was itself ahead of the wall clock at first (a producer's clock running fast): it was measured from that
    /// `nowMs`, a replay after `ts` measures from `ts`, so an event time in `(nowMs + bound, ts + bound]` is refused
    /// at first and accepted on replay. A record without a timestamp (message formats before Kafka 0.10) is measured
    /// from the wall clock each time, with the same effect. Neither can be accepted at first and refused on replay.
    public static func referenceMs(nowMs: Int64, messageTimestampMs: Int64?) -> Int64 {
        guard let timestampMs = messageTimestampMs else { return nowMs }
        return min(nowMs, timestampMs)
    }
}
