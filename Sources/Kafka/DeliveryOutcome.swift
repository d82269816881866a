import CRdKafka

/// What happened to the messages whose delivery reports arrived in one reporting period.
public struct DeliveryOutcome: Sendable {
    /// Acknowledged by the broker (per the producer's `acks`).
    public var delivered: Int
    /// Permanently failed (after librdkafka's own retries), e.g. `message.timeout.ms` expired.
    public var failed: Int
    /// The first few failures (at most `DeliveryOutcome.maxErrors`), for logs.
    public var errors: [KafkaError]
    /// Every failed message that was produced with a tag (`produce(..., tag:)`), with its error code: the caller
    /// can tell which messages to produce again, and which can never be delivered as they are.
    public var failedTags: [(tag: Int, code: Int32)]
    /// The failed tagged messages that may have been written nonetheless (librdkafka's
    /// `RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED`: sent, but no acknowledgement before `message.timeout.ms`):
    /// producing them again may write them twice.
    public var possiblyPersistedTags: [Int]

    public init(
        delivered: Int = 0, failed: Int = 0, errors: [KafkaError] = [], failedTags: [(tag: Int, code: Int32)] = [],
        possiblyPersistedTags: [Int] = []
    ) {
        self.delivered = delivered
        self.failed = failed
        self.errors = errors
        self.failedTags = failedTags
        self.possiblyPersistedTags = possiblyPersistedTags
    }

    /// How many errors are kept per period.
    public static let maxErrors = 5
}

/// Receives librdkafka's delivery reports (`dr_msg_cb`) and tallies them until the producer takes the tally.
///
/// It is the `opaque` of the producer's `rd_kafka_t`, passed unretained: the producer owns it and destroys
/// the handle before releasing it, so the pointer is valid whenever librdkafka can call back.
final class DeliveryReports: Sendable {
    private let tally = Locked(DeliveryOutcome())

    func record(_ message: UnsafePointer<rd_kafka_message_t>) {
        let err = message.pointee.err
        if err == RD_KAFKA_RESP_ERR_NO_ERROR {
            tally.withLock { $0.delivered += 1 }
            return
        }
        // A tag is stored in the message's opaque as tag + 1 (0 means untagged).
        let tag = Int(bitPattern: message.pointee._private) - 1
        let maybeWritten = rd_kafka_message_status(message) == RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED
        let needsError = tally.withLock { outcome -> Bool in
            outcome.failed += 1
            if tag >= 0 {
                outcome.failedTags.append((tag, err.rawValue))
                if maybeWritten { outcome.possiblyPersistedTags.append(tag) }
            }
            return outcome.errors.count < DeliveryOutcome.maxErrors
        }
        guard needsError else { return }
        let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let error = KafkaError(err, "delivery to \(topic)[\(message.pointee.partition)] failed")
        tally.withLock { outcome in
            if outcome.errors.count < DeliveryOutcome.maxErrors { outcome.errors.append(error) }
        }
    }

    /// Returns the tally so far and starts a new one.
    func take() -> DeliveryOutcome {
        tally.withLock { outcome in
            defer { outcome = DeliveryOutcome() }
            return outcome
        }
    }

    static let callback: @convention(c) (
        OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?
    ) -> Void = { _, message, opaque in
        guard let message, let opaque else { return }
        Unmanaged<DeliveryReports>.fromOpaque(opaque).takeUnretainedValue().record(message)
    }
}
