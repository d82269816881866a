/// The lifecycle of the analysts' clicks, so that one click gives exactly one label on `fraud.labels`
/// (docs/console.md, "Exactly once per click"). A plain value: the HTTP handler asks it what to do, the label
/// publisher tells it what happened. No I/O.
///
/// A click is identified by the id the page generates for it. A retried request with the same id (a network
/// retry, a reload after a timeout) never produces again while the first is in flight or delivered; it waits
/// for, or returns, the first one's outcome. Only a click whose delivery definitely failed is produced again.
/// A new click on a transaction that already has a label (on `fraud.labels`, or one of this console's in flight)
/// is refused.
public struct ClickLedger: Sendable {
    /// What the page asked for.
    public struct Click: Sendable, Equatable {
        public var clickId: String
        public var transactionId: String
        public var isFraud: Bool
        public var analyst: String

        public init(clickId: String, transactionId: String, isFraud: Bool, analyst: String) {
            self.clickId = clickId
            self.transactionId = transactionId
            self.isFraud = isFraud
            self.analyst = analyst
        }
    }

    public enum State: Sendable, Equatable {
        case inFlight(ConsoleLabel)
        case delivered(ConsoleLabel)
        case failed(ConsoleLabel, reason: String)
        /// The delivery report failed after the message was sent (a timeout while in flight: librdkafka's
        /// "possibly persisted"): the label may be on `fraud.labels`. Producing it again could label twice, so the
        /// click waits for the label to be read back; if none is by `uncertainWindowMs`, it was not written and the
        /// click may produce again.
        case uncertain(ConsoleLabel, sinceMs: Int64)
    }

    /// How long an uncertain label waits to be read back from `fraud.labels` before it counts as not written.
    public static let uncertainWindowMs: Int64 = 60_000

    /// What the caller does with a click.
    public enum Action: Sendable, Equatable {
        /// Produce this label, then wait for its outcome.
        case produce(ConsoleLabel)
        /// The click's label is already in flight: wait for its outcome.
        case wait
        /// The click's label is already on `fraud.labels`: answer success again.
        case alreadyDelivered(ConsoleLabel)
        /// The transaction is labelled already (by this label); refuse.
        case refuse(WorkedLabel)
        /// Another click of the same transaction is in flight; refuse.
        case refuseInFlight(by: String)
        /// The click id was used for another transaction or verdict: a client bug; refuse.
        case mismatch
    }

    private var clicks: [String: State] = [:]
    private var order: Ring<String>
    /// This console's click in flight or delivered per transaction.
    private var clickOfTransaction: [String: String] = [:]

    /// Remembers at most `capacity` clicks (the oldest are forgotten; their labels are on `fraud.labels` by then,
    /// so a late retry is refused as "already labelled").
    public init(capacity: Int = 10_000) {
        order = Ring(capacity: capacity)
    }

    public func state(of clickId: String) -> State? { clicks[clickId] }

    /// Decides what a click does. `existing` is the transaction's label as the queue knows it (from `fraud.labels`).
    public mutating func click(_ click: Click, existing: WorkedLabel?, nowMs: Int64) -> Action {
        if let state = clicks[click.clickId] {
            let label = state.label
            guard label.transactionId == click.transactionId, label.isFraud == click.isFraud,
                  label.reportedBy == click.analyst
            else { return .mismatch }
            switch state {
            case .inFlight: return .wait
            case .delivered: return .alreadyDelivered(label)
            case .uncertain(_, let since):
                if let existing {
                    // Read back: ours if it is this click's label (same verdict, analyst and report time).
                    if existing == label.worked {
                        clicks[click.clickId] = .delivered(label)
                        return .alreadyDelivered(label)
                    }
                    return .refuse(existing)
                }
                guard nowMs - since >= Self.uncertainWindowMs else { return .wait }
                clicks[click.clickId] = .inFlight(label)
                clickOfTransaction[click.transactionId] = click.clickId
                return .produce(label)
            case .failed:
                if let existing { return .refuse(existing) }
                clicks[click.clickId] = .inFlight(label)
                clickOfTransaction[click.transactionId] = click.clickId
                return .produce(label)
            }
        }
        if let existing { return .refuse(existing) }
        if let other = clickOfTransaction[click.transactionId], let state = clicks[other] {
            switch state {
            case .inFlight(let label): return .refuseInFlight(by: label.reportedBy)
            case .uncertain(let label, let since) where nowMs - since < Self.uncertainWindowMs:
                return .refuseInFlight(by: label.reportedBy)
            case .delivered(let label): return .refuse(label.worked)
            case .failed, .uncertain: break
            }
        }
        let label = ConsoleLabel(
            transactionId: click.transactionId, isFraud: click.isFraud, reportedAtMs: nowMs, reportedBy: click.analyst,
            clickId: click.clickId)
        clicks[click.clickId] = .inFlight(label)
        clickOfTransaction[click.transactionId] = click.clickId
        if let forgotten = order.append(click.clickId), let state = clicks.removeValue(forKey: forgotten) {
            if clickOfTransaction[state.label.transactionId] == forgotten { clickOfTransaction[state.label.transactionId] = nil }
        }
        return .produce(label)
    }

    /// The label of `clickId` is on `fraud.labels` (its delivery report said so).
    public mutating func delivered(_ clickId: String) {
        guard case .inFlight(let label) = clicks[clickId] else { return }
        clicks[clickId] = .delivered(label)
    }

    /// The label of `clickId` could not be delivered (its delivery report failed, or produce refused it).
    public mutating func failed(_ clickId: String, reason: String) {
        guard case .inFlight(let label) = clicks[clickId] else { return }
        clicks[clickId] = .failed(label, reason: reason)
    }

    /// The label of `clickId` may or may not be on `fraud.labels` (`State.uncertain`).
    public mutating func uncertain(_ clickId: String, nowMs: Int64) {
        guard case .inFlight(let label) = clicks[clickId] else { return }
        clicks[clickId] = .uncertain(label, sinceMs: nowMs)
    }
}

extension ClickLedger.State {
    var label: ConsoleLabel {
        switch self {
        case .inFlight(let label), .delivered(let label), .failed(let label, _), .uncertain(let label, _): label
        }
    }
}
