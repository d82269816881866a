/// What really happened for one generated transaction: the label the retraining job and the tests compare against.
public struct GroundTruth: Sendable, Equatable {
    public var transactionId: String
    public var cardId: String
    /// True for the transactions a fraud episode made; false for the cardholder's own payments, including the
    /// genuine home payment that opens an impossible-travel episode.
    public var isFraud: Bool
    /// The episode's pattern when `isFraud`, else nil.
    public var pattern: FraudPattern?
    /// The `event_time_ms` written into the message.
    public var eventTimeMs: Int64

    public init(transactionId: String, cardId: String, isFraud: Bool, pattern: FraudPattern?, eventTimeMs: Int64) {
        self.transactionId = transactionId
        self.cardId = cardId
        self.isFraud = isFraud
        self.pattern = pattern
        self.eventTimeMs = eventTimeMs
    }
}
