import Synchronization

/// The state the console's threads share: the alert queue (fed by `ConsoleFeed`), the clicks (HTTP handlers and
/// `LabelPublisher`), the login sessions and Kafka's health. Each is a plain value behind its own lock; nothing here
/// does I/O.
public final class ConsoleDesk: Sendable {
    public let queue: Mutex<AlertQueue>
    public let clicks: Mutex<ClickLedger>
    public let sessions: Mutex<SessionBook>
    public let health = Mutex(KafkaHealth())
    /// Messages of the three topics the console could not read (not contract-shaped), by topic kind.
    public let skipped = Mutex([String: Int]())

    public init(limits: AlertQueue.Limits = AlertQueue.Limits(), sessionLimits: SessionBook.Limits = SessionBook.Limits()) {
        queue = Mutex(AlertQueue(limits: limits))
        clicks = Mutex(ClickLedger())
        sessions = Mutex(SessionBook(limits: sessionLimits))
    }

    /// Decides what a click does, against the transaction's label as the queue knows it.
    public func click(_ click: ClickLedger.Click, nowMs: Int64) -> ClickLedger.Action {
        let existing = queue.withLock { $0.label(of: click.transactionId) }
        return clicks.withLock { $0.click(click, existing: existing, nowMs: nowMs) }
    }

    /// A label's delivery was acknowledged: the click is done and the alert is worked at once (the labels
    /// consumer will read the same label back).
    public func delivered(_ label: ConsoleLabel) {
        clicks.withLock { $0.delivered(label.clickId) }
        queue.withLock { $0.add(label: label.worked, transactionId: label.transactionId) }
    }

    public func failed(_ label: ConsoleLabel, reason: String) {
        clicks.withLock { $0.failed(label.clickId, reason: reason) }
    }

    /// The label may have been written (`ClickLedger.State.uncertain`).
    public func uncertain(_ label: ConsoleLabel, nowMs: Int64) {
        clicks.withLock { $0.uncertain(label.clickId, nowMs: nowMs) }
    }

    public func state(of clickId: String) -> ClickLedger.State? {
        clicks.withLock { $0.state(of: clickId) }
    }

    func skip(_ kind: String) {
        skipped.withLock { $0[kind, default: 0] += 1 }
    }
}
