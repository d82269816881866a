import Foundation

/// One alert from `fraud.alerts`, as the console shows it: the decision's fields (contract, "Decision").
///
/// `cardId` is the card's token, the only thing about the card the console ever has or shows.
public struct ConsoleAlert: Sendable, Equatable, Codable {
    public struct Reason: Sendable, Equatable, Codable {
        public var feature: String
        public var contribution: Double

        public init(feature: String, contribution: Double) {
            self.feature = feature
            self.contribution = contribution
        }
    }

    public var transactionId: String
    public var cardId: String
    public var verdict: String
    public var score: Double
    public var modelVersion: String
    public var reasons: [Reason]
    public var eventTimeMs: Int64
    public var decidedAtMs: Int64

    public init(
        transactionId: String, cardId: String, verdict: String, score: Double, modelVersion: String,
        reasons: [Reason], eventTimeMs: Int64, decidedAtMs: Int64
    ) {
        self.transactionId = transactionId
        self.cardId = cardId
        self.verdict = verdict
        self.score = score
        self.modelVersion = modelVersion
        self.reasons = reasons
        self.eventTimeMs = eventTimeMs
        self.decidedAtMs = decidedAtMs
    }

    enum CodingKeys: String, CodingKey {
        case transactionId = "transaction_id", cardId = "card_id", verdict, score, modelVersion = "model_version"
        case reasons, eventTimeMs = "event_time_ms", decidedAtMs = "decided_at_ms"
    }

    /// Decodes an alert message; nil for anything that is not one (the console skips it and counts it).
    public static func decode(_ bytes: [UInt8]) -> ConsoleAlert? {
        guard let alert = try? JSONDecoder().decode(ConsoleAlert.self, from: Data(bytes)),
              !alert.transactionId.isEmpty, !alert.cardId.isEmpty, alert.verdict == "review" || alert.verdict == "block"
        else { return nil }
        return alert
    }
}

/// One feature record from `fraud.features` (schema version 1 or 2): what was scored for one transaction.
public struct FeatureSnapshot: Sendable, Equatable, Codable {
    public var transactionId: String
    public var cardId: String
    /// Schema version 2 only.
    public var merchantId: String?
    public var eventTimeMs: Int64
    public var score: Double
    public var verdict: String
    public var features: [String: Double]

    public init(
        transactionId: String, cardId: String, merchantId: String?, eventTimeMs: Int64, score: Double, verdict: String,
        features: [String: Double]
    ) {
        self.transactionId = transactionId
        self.cardId = cardId
        self.merchantId = merchantId
        self.eventTimeMs = eventTimeMs
        self.score = score
        self.verdict = verdict
        self.features = features
    }

    enum CodingKeys: String, CodingKey {
        case transactionId = "transaction_id", cardId = "card_id", merchantId = "merchant_id"
        case eventTimeMs = "event_time_ms", score, verdict, features
    }

    public static func decode(_ bytes: [UInt8]) -> FeatureSnapshot? {
        guard let record = try? JSONDecoder().decode(FeatureSnapshot.self, from: Data(bytes)),
              !record.transactionId.isEmpty, !record.cardId.isEmpty
        else { return nil }
        return record
    }

    /// The line of the card's recent transactions this record gives.
    public var summary: TransactionSummary {
        TransactionSummary(
            transactionId: transactionId, eventTimeMs: eventTimeMs, amount: features["amount"], merchantId: merchantId,
            verdict: verdict, score: score)
    }
}

/// One of a card's recent transactions, from its feature record: what an analyst needs to see a pattern.
public struct TransactionSummary: Sendable, Equatable, Codable {
    public var transactionId: String
    public var eventTimeMs: Int64
    /// The `amount` feature (major units); nil if the record had none.
    public var amount: Double?
    public var merchantId: String?
    public var verdict: String
    public var score: Double

    enum CodingKeys: String, CodingKey {
        case transactionId = "transaction_id", eventTimeMs = "event_time_ms", amount, merchantId = "merchant_id", verdict, score
    }
}
