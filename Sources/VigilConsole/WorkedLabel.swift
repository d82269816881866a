/// The label an alert's transaction has on `fraud.labels` (or that this console has just had delivered there):
/// what makes an alert "worked".
public struct WorkedLabel: Sendable, Equatable, Codable {
    public var isFraud: Bool
    public var reportedAtMs: Int64?
    /// The analyst, for a schema-2 label; nil for a schema-1 label (chargeback or case systems).
    public var reportedBy: String?
    public var source: String?

    public init(isFraud: Bool, reportedAtMs: Int64?, reportedBy: String?, source: String?) {
        self.isFraud = isFraud
        self.reportedAtMs = reportedAtMs
        self.reportedBy = reportedBy
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case isFraud = "is_fraud", reportedAtMs = "reported_at_ms", reportedBy = "reported_by", source
    }

    /// Whether `other` replaces this one: the label reported last wins, at equal times a fraud label
    /// (as `vigil train` and `vigil merchant-risk` decide).
    func isSuperseded(by other: WorkedLabel) -> Bool {
        let mine = reportedAtMs ?? Int64.min
        let theirs = other.reportedAtMs ?? Int64.min
        return theirs > mine || (theirs == mine && other.isFraud && !isFraud)
    }
}
