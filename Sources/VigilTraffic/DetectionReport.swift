/// Detection against the ground truth (`DetectionTally.report`): per fraud pattern how many frauds Vigil reviewed,
/// blocked or approved (missed), and for genuine payments how many it alerted on (false alerts). Transactions Vigil
/// did not decide (late, dead-lettered, or no outcome read back) are counted apart, never as misses.
public struct DetectionReport: Sendable, Equatable {
    /// The transactions of one pattern (or the genuine ones) by outcome.
    public struct Row: Sendable, Equatable {
        public var approved = 0
        public var reviewed = 0
        public var blocked = 0
        /// On `fraud.late`, unscored.
        public var late = 0
        /// On `fraud.dlq`, unscored.
        public var deadLettered = 0
        /// Ground truth with no outcome read back by the end: still in flight, or never processed.
        public var notReadBack = 0

        public init(
            approved: Int = 0, reviewed: Int = 0, blocked: Int = 0, late: Int = 0, deadLettered: Int = 0,
            notReadBack: Int = 0
        ) {
            self.approved = approved
            self.reviewed = reviewed
            self.blocked = blocked
            self.late = late
            self.deadLettered = deadLettered
            self.notReadBack = notReadBack
        }

        public var transactions: Int { decided + undecided }
        public var decided: Int { approved + reviewed + blocked }
        /// Reviewed or blocked: caught for fraud, a false alert for a genuine payment.
        public var alerted: Int { reviewed + blocked }
        public var undecided: Int { late + deadLettered + notReadBack }
        /// Alerted share of the decided ones; nil when none was decided. Undecided transactions are not in it.
        public var alertShare: Double? { decided == 0 ? nil : Double(alerted) / Double(decided) }

        mutating func add(_ outcome: TransactionOutcome) {
            switch outcome {
            case .decided(.approve): approved += 1
            case .decided(.review): reviewed += 1
            case .decided(.block): blocked += 1
            case .late: late += 1
            case .deadLettered: deadLettered += 1
            }
        }

        static func + (a: Row, b: Row) -> Row {
            Row(
                approved: a.approved + b.approved, reviewed: a.reviewed + b.reviewed, blocked: a.blocked + b.blocked,
                late: a.late + b.late, deadLettered: a.deadLettered + b.deadLettered,
                notReadBack: a.notReadBack + b.notReadBack)
        }
    }

    public struct PatternRow: Sendable, Equatable {
        public var pattern: FraudPattern
        /// `approved` are the frauds missed; `alertShare` is the pattern's recall.
        public var row: Row

        public init(pattern: FraudPattern, row: Row) {
            self.pattern = pattern
            self.row = row
        }
    }

    /// One row per pattern, in `FraudPattern.allCases` order, including patterns with no fraud.
    public var patterns: [PatternRow]
    /// Genuine payments: `alerted` are the false alerts.
    public var genuine: Row
    /// Outcomes read back for transactions the ground truth does not know (in the demo, malformed messages that still
    /// have a transaction id, on `fraud.dlq`), or a second outcome for one, by outcome; `notReadBack` is 0.
    public var unmatched: Row

    public init(patterns: [PatternRow], genuine: Row, unmatched: Row) {
        self.patterns = patterns
        self.genuine = genuine
        self.unmatched = unmatched
    }

    /// Every fraud pattern together.
    public var fraud: Row { patterns.reduce(Row()) { $0 + $1.row } }
    /// Every transaction with ground truth, fraud and genuine.
    public var all: Row { fraud + genuine }

    /// False alerts (genuine payments reviewed or blocked) per 1,000 transactions decided, fraud or not; nil when
    /// none was decided.
    public var falseAlertsPerThousandDecided: Double? {
        let decided = all.decided
        return decided == 0 ? nil : Double(genuine.alerted) * 1000 / Double(decided)
    }

    /// False alerts per 1,000 genuine payments decided; nil when none was decided.
    public var falseAlertsPerThousandGenuine: Double? { genuine.alertShare.map { $0 * 1000 } }
}
