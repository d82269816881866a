/// Records read from one source: how many were usable, and how many were skipped for which reason.
public struct RecordTally: Sendable, Equatable {
    public var read = 0
    public var accepted = 0
    /// Skipped records by reason.
    public var bad: [String: Int] = [:]
    /// The first few skipped records, to point an operator at them.
    public var examples: [String] = []
    static let maxExamples = 5

    public init() {}

    public var badCount: Int { bad.values.reduce(0, +) }

    mutating func reject(_ error: RecordError, at location: RecordLocation) {
        bad[error.description, default: 0] += 1
        if examples.count < Self.maxExamples { examples.append("\(location): \(error)") }
    }
}
