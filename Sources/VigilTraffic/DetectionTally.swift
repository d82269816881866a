/// Joins the generator's ground truth with what Vigil did to each transaction, to measure detection: frauds caught
/// per pattern and false alerts. Pure; fed as both sides arrive, in either order, and read with `report`.
///
/// Memory stays proportional to the transactions whose other side has not arrived yet: a joined transaction only
/// moves counts.
public struct DetectionTally: Sendable {
    /// Ground truth with no outcome yet: the pattern, nil for a genuine payment.
    private var truthWaiting: [String: FraudPattern?] = [:]
    /// Outcomes with no ground truth yet.
    private var outcomesWaiting: [String: TransactionOutcome] = [:]
    private var fraud: [FraudPattern: DetectionReport.Row] = [:]
    private var genuine = DetectionReport.Row()

    public init() {}

    /// Records what really happened to one transaction.
    public mutating func expect(_ truth: GroundTruth) {
        expect(transactionId: truth.transactionId, pattern: truth.isFraud ? truth.pattern : nil)
    }

    /// Records one transaction's ground truth: its fraud pattern, or nil for a genuine payment.
    public mutating func expect(transactionId: String, pattern: FraudPattern?) {
        if let outcome = outcomesWaiting.removeValue(forKey: transactionId) {
            count(outcome, pattern: pattern)
        } else {
            truthWaiting[transactionId] = pattern
        }
    }

    /// Records where Vigil put one transaction.
    public mutating func record(_ outcome: TransactionOutcome, transactionId: String) {
        if let pattern = truthWaiting.removeValue(forKey: transactionId) {
            count(outcome, pattern: pattern)
        } else {
            outcomesWaiting[transactionId] = outcome
        }
    }

    /// The detection so far. Transactions with ground truth and no outcome yet count as not read back; outcomes of
    /// transactions the ground truth does not know (or a second outcome for one) as unmatched.
    public var report: DetectionReport {
        var fraud = self.fraud
        var genuine = self.genuine
        for pattern in truthWaiting.values {
            if let pattern { fraud[pattern, default: .init()].notReadBack += 1 } else { genuine.notReadBack += 1 }
        }
        var unmatched = DetectionReport.Row()
        for outcome in outcomesWaiting.values { unmatched.add(outcome) }
        return DetectionReport(
            patterns: FraudPattern.allCases.map { DetectionReport.PatternRow(pattern: $0, row: fraud[$0] ?? .init()) },
            genuine: genuine, unmatched: unmatched)
    }

    private mutating func count(_ outcome: TransactionOutcome, pattern: FraudPattern?) {
        if let pattern { fraud[pattern, default: .init()].add(outcome) } else { genuine.add(outcome) }
    }
}
