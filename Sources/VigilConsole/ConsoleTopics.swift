/// The topics the console reads and writes (contract names by default).
public struct ConsoleTopics: Sendable, Equatable {
    public var alerts: String
    public var features: String
    public var labels: String

    public init(alerts: String = "fraud.alerts", features: String = "fraud.features", labels: String = "fraud.labels") {
        self.alerts = alerts
        self.features = features
        self.labels = labels
    }
}
