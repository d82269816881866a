/// The console's memory: the newest alerts, the features each was scored with, the recent transactions of the
/// cards in the queue, and which alerts are worked. Pure and bounded (docs/console.md, "Memory").
///
/// Alerts, feature records and labels come from three topics in no particular order between them, so each can
/// arrive first: a feature record is kept in a ring of recent records until its alert comes; a label is kept
/// (bounded) until its alert comes.
public struct AlertQueue: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Alerts kept; the oldest (by decision time) go first.
        public var alerts: Int
        /// Recent transactions shown per card.
        public var transactionsPerCard: Int
        /// Feature records remembered for alerts and cards that have not arrived yet.
        public var recentRecords: Int
        /// Labels remembered (of transactions in the queue or not).
        public var labels: Int

        public init(alerts: Int = 1000, transactionsPerCard: Int = 10, recentRecords: Int = 20_000, labels: Int = 100_000) {
            self.alerts = max(1, alerts)
            self.transactionsPerCard = max(1, transactionsPerCard)
            self.recentRecords = max(1, recentRecords)
            self.labels = max(1, labels)
        }
    }

    /// One alert with what the console knows about it.
    public struct Entry: Sendable, Equatable {
        public var alert: ConsoleAlert
        /// The features scored, from the transaction's feature record; nil until it arrives.
        public var features: [String: Double]?
        /// Arrival order, to break ties between equal decision times.
        var sequence: Int
    }

    public let limits: Limits
    /// Newest first: by `decidedAtMs`, then arrival.
    public private(set) var entries: [Entry] = []
    /// The transactions of `entries`.
    private var queued: Set<String> = []
    private var alertsPerCard: [String: Int] = [:]
    /// Recent transactions of every card with an alert in the queue, newest (event time) first.
    public private(set) var history: [String: [TransactionSummary]] = [:]
    private var recent: Ring<FeatureSnapshot>
    private var labels: [String: WorkedLabel] = [:]
    private var labelOrder: Ring<String>
    private var sequence = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
        recent = Ring(capacity: limits.recentRecords)
        labelOrder = Ring(capacity: limits.labels)
    }

    /// Adds an alert; a repeated one (same transaction, e.g. read again after a restart) replaces nothing.
    public mutating func add(_ alert: ConsoleAlert) {
        guard queued.insert(alert.transactionId).inserted else { return }
        sequence += 1
        var entry = Entry(alert: alert, features: nil, sequence: sequence)
        if let record = recent.last(where: { $0.transactionId == alert.transactionId }) { entry.features = record.features }
        let position = entries.firstIndex { Self.isNewer(entry, than: $0) } ?? entries.count
        entries.insert(entry, at: position)
        if alertsPerCard[alert.cardId, default: 0] == 0 { history[alert.cardId] = cardHistory(alert.cardId) }
        alertsPerCard[alert.cardId, default: 0] += 1
        while entries.count > limits.alerts { evictOldest() }
    }

    /// Adds a feature record: the features of its alert (if queued) and a recent transaction of its card.
    public mutating func add(_ record: FeatureSnapshot) {
        recent.append(record)
        if queued.contains(record.transactionId), let index = index(of: record.transactionId), entries[index].features == nil {
            entries[index].features = record.features
        }
        guard var list = history[record.cardId] else { return }
        guard !list.contains(where: { $0.transactionId == record.transactionId }) else { return }
        let summary = record.summary
        list.insert(summary, at: list.firstIndex { $0.eventTimeMs < summary.eventTimeMs } ?? list.count)
        if list.count > limits.transactionsPerCard { list.removeLast(list.count - limits.transactionsPerCard) }
        history[record.cardId] = list
    }

    /// Records a transaction's label; the label reported last wins.
    public mutating func add(label: WorkedLabel, transactionId: String) {
        if let old = labels[transactionId] {
            if old.isSuperseded(by: label) { labels[transactionId] = label }
            return
        }
        labels[transactionId] = label
        if let evicted = labelOrder.append(transactionId) { labels[evicted] = nil }
    }

    /// The label of a transaction, if it is worked.
    public func label(of transactionId: String) -> WorkedLabel? { labels[transactionId] }

    /// The queued alert of a transaction.
    public func entry(of transactionId: String) -> Entry? {
        queued.contains(transactionId) ? index(of: transactionId).map { entries[$0] } : nil
    }

    private func index(of transactionId: String) -> Int? { entries.firstIndex { $0.alert.transactionId == transactionId } }

    /// The alerts `filter` selects, newest first, at most `filter.limit`.
    public func select(_ filter: QueueFilter) -> [Entry] {
        var selected: [Entry] = []
        for entry in entries where filter.admits(entry.alert, worked: labels[entry.alert.transactionId] != nil) {
            selected.append(entry)
            if selected.count == filter.limit { break }
        }
        return selected
    }

    /// How many queued alerts are worked.
    public var workedCount: Int { entries.reduce(0) { $0 + (labels[$1.alert.transactionId] == nil ? 0 : 1) } }

    private static func isNewer(_ a: Entry, than b: Entry) -> Bool {
        a.alert.decidedAtMs != b.alert.decidedAtMs ? a.alert.decidedAtMs > b.alert.decidedAtMs : a.sequence > b.sequence
    }

    private func cardHistory(_ cardId: String) -> [TransactionSummary] {
        var byTransaction: [String: TransactionSummary] = [:]
        recent.forEach { if $0.cardId == cardId { byTransaction[$0.transactionId] = $0.summary } }
        let sorted = byTransaction.values.sorted {
            $0.eventTimeMs != $1.eventTimeMs ? $0.eventTimeMs > $1.eventTimeMs : $0.transactionId > $1.transactionId
        }
        return Array(sorted.prefix(limits.transactionsPerCard))
    }

    private mutating func evictOldest() {
        let gone = entries.removeLast()
        queued.remove(gone.alert.transactionId)
        let left = alertsPerCard[gone.alert.cardId, default: 1] - 1
        alertsPerCard[gone.alert.cardId] = left > 0 ? left : nil
        if left <= 0 { history[gone.alert.cardId] = nil }
    }
}
