/// Kafka topic names; defaults from the contract, every one configurable.
public struct Topics: Sendable, Equatable {
    public var transactions = "transactions"
    public var decisions = "fraud.decisions"
    public var alerts = "fraud.alerts"
    public var features = "fraud.features"
    public var late = "fraud.late"
    public var dlq = "fraud.dlq"
    /// The shadow model's verdicts (only written while a shadow model is set; see docs/retraining.md).
    public var shadow = "fraud.shadow"

    public init() {}

    /// Every topic Vigil always writes to (the shadow topic only while a shadow model is set).
    public var outputs: [String] { [decisions, alerts, features, late, dlq] }
}
