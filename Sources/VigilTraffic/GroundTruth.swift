/// What really happened for one generated transaction: the label the retraining job and the tests compare against.
public struct GroundTruth: Sendable, Equatable {
    public var transactionId: String
    public var cardId: String
    /// The `merchant_id` written into the message (`m-NNNNN`).
    public var merchantId: String
    /// True for the transactions a fraud episode made and for every payment at a merchant while it is compromised;
    /// false for the cardholder's other payments, including the genuine home payment that opens an
    /// impossible-travel episode (unless that merchant is compromised).
    public var isFraud: Bool
    /// The fraud's pattern when `isFraud`, else nil.
    public var pattern: FraudPattern?
    /// The `event_time_ms` written into the message.
    public var eventTimeMs: Int64
    /// When the fraud team reports this transaction's label (`is_fraud` = `isFraud`) on `fraud.labels`, always
    /// after `eventTimeMs`; nil if it is never reported (`TrafficProfile.labels`).
    public var reportedAtMs: Int64?

    public init(
        transactionId: String, cardId: String, isFraud: Bool, pattern: FraudPattern?, eventTimeMs: Int64,
        reportedAtMs: Int64? = nil, merchantId: String = ""
    ) {
        self.transactionId = transactionId
        self.cardId = cardId
        self.merchantId = merchantId
        self.isFraud = isFraud
        self.pattern = pattern
        self.eventTimeMs = eventTimeMs
        self.reportedAtMs = reportedAtMs
    }
}
