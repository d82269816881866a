/// The queue as the page receives it (`GET /api/queue`).
struct QueueView: Encodable {
    struct Alert: Encodable {
        var transaction_id: String
        var card_id: String
        var verdict: String
        var score: Double
        var model_version: String
        var reasons: [ConsoleAlert.Reason]
        var event_time_ms: Int64
        var decided_at_ms: Int64
        var features: [String: Double]?
        var recent: [TransactionSummary]
        var label: WorkedLabel?
    }

    struct Kafka: Encodable {
        var reachable: Bool
        var since_ms: Int64?
        var detail: String?
        var labels_waiting: Int
    }

    var analyst: String
    var csrf: String
    var kafka: Kafka
    var queued: Int
    var worked: Int
    var alerts: [Alert]

    static func make(desk: ConsoleDesk, filter: QueueFilter, session: SessionBook.Session) -> QueueView {
        let health = desk.health.withLock { $0 }
        return desk.queue.withLock { queue in
            let alerts = queue.select(filter).map { entry in
                let a = entry.alert
                return Alert(
                    transaction_id: a.transactionId, card_id: a.cardId, verdict: a.verdict, score: a.score,
                    model_version: a.modelVersion, reasons: a.reasons, event_time_ms: a.eventTimeMs, decided_at_ms: a.decidedAtMs,
                    features: entry.features, recent: queue.history[a.cardId] ?? [], label: queue.label(of: a.transactionId))
            }
            return QueueView(
                analyst: session.analyst, csrf: session.csrfToken,
                kafka: Kafka(reachable: health.reachable, since_ms: health.sinceMs, detail: health.detail, labels_waiting: health.labelsWaiting),
                queued: queue.entries.count, worked: queue.workedCount, alerts: alerts)
        }
    }
}
