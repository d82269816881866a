import CRdKafka

/// Every failure reported by this module: a librdkafka error code plus what was being done.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    /// The `rd_kafka_resp_err_t` value: negative for client-side (`_`-prefixed) errors,
    /// positive for broker errors. Compare with the constants in `KafkaError.Code`.
    public var code: Int32
    /// librdkafka's symbolic name for `code`, e.g. `_QUEUE_FULL`, `UNKNOWN_TOPIC_OR_PART`.
    public var name: String
    /// What failed and why, e.g. "produce to fraud.dlq failed: Local: Queue full".
    public var message: String
    /// The client instance is unusable (e.g. idempotence guarantees broken) and must be recreated.
    public var isFatal: Bool
    /// Repeating the same operation may succeed.
    public var isRetriable: Bool
    /// Transactional only: the current transaction must be aborted before anything else.
    public var txnRequiresAbort: Bool

    public init(
        code: Int32, name: String, message: String,
        isFatal: Bool = false, isRetriable: Bool = false, txnRequiresAbort: Bool = false
    ) {
        self.code = code
        self.name = name
        self.message = message
        self.isFatal = isFatal
        self.isRetriable = isRetriable
        self.txnRequiresAbort = txnRequiresAbort
    }

    public var description: String {
        var text = "\(message) [\(name)]"
        if isFatal { text += " (fatal)" }
        if txnRequiresAbort { text += " (transaction must be aborted)" }
        return text
    }

    /// The errors for which delivering the same message again cannot succeed: the message itself is refused
    /// (too large for the producer's `message.max.bytes` or the topic's `max.message.bytes`, or invalid). Any other
    /// delivery error (timeouts, leader changes, a broker down) may clear up.
    public static func refusesMessage(_ code: Int32) -> Bool {
        code == Code.messageSizeTooLarge || code == Code.recordListTooLarge || code == Code.invalidRecord
            || code == Code.corruptMessage
    }

    /// How librdkafka's transactional API says to handle this error (`rdkafka.h`, "Transactional producer API"):
    /// fatal -> recreate the producer; abortable -> abort the transaction and start over; retriable -> call the same
    /// function again. An error with none of the flags is to be treated as fatal.
    public var transactionalHandling: TransactionalErrorHandling {
        if isFatal { return .fatal }
        if txnRequiresAbort { return .abort }
        if isRetriable { return .retry }
        return .fatal
    }

    /// True when the operation did not finish within its timeout.
    public var isTimeout: Bool {
        code == Code.timedOut || code == Code.messageTimedOut || code == Code.requestTimedOut
    }
}

/// What a transactional call's error asks the caller to do.
public enum TransactionalErrorHandling: Sendable, Equatable {
    case retry, abort, fatal
}

extension KafkaError {
    /// Error codes worth testing for by name. Values are `rd_kafka_resp_err_t` raw values.
    public enum Code {
        public static let noError: Int32 = RD_KAFKA_RESP_ERR_NO_ERROR.rawValue
        public static let invalidArgument: Int32 = RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue
        public static let timedOut: Int32 = RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue
        public static let queueFull: Int32 = RD_KAFKA_RESP_ERR__QUEUE_FULL.rawValue
        public static let messageTimedOut: Int32 = RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue
        public static let fatal: Int32 = RD_KAFKA_RESP_ERR__FATAL.rawValue
        public static let partitionEOF: Int32 = RD_KAFKA_RESP_ERR__PARTITION_EOF.rawValue
        public static let transport: Int32 = RD_KAFKA_RESP_ERR__TRANSPORT.rawValue
        public static let allBrokersDown: Int32 = RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue
        public static let unknownTopicOrPartition: Int32 = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue
        public static let unknownPartition: Int32 = RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION.rawValue
        public static let requestTimedOut: Int32 = RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
        public static let notCoordinator: Int32 = RD_KAFKA_RESP_ERR_NOT_COORDINATOR.rawValue
        public static let rebalanceInProgress: Int32 = RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS.rawValue
        public static let illegalGeneration: Int32 = RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION.rawValue
        public static let unknownMemberId: Int32 = RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID.rawValue
        public static let state: Int32 = RD_KAFKA_RESP_ERR__STATE.rawValue
        public static let fenced: Int32 = RD_KAFKA_RESP_ERR__FENCED.rawValue
        public static let producerFenced: Int32 = RD_KAFKA_RESP_ERR_PRODUCER_FENCED.rawValue
        public static let messageSizeTooLarge: Int32 = RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE.rawValue
        public static let recordListTooLarge: Int32 = RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE.rawValue
        public static let invalidRecord: Int32 = RD_KAFKA_RESP_ERR_INVALID_RECORD.rawValue
        public static let corruptMessage: Int32 = RD_KAFKA_RESP_ERR_INVALID_MSG.rawValue
        public static let purgedFromQueue: Int32 = RD_KAFKA_RESP_ERR__PURGE_QUEUE.rawValue
        public static let purgedInFlight: Int32 = RD_KAFKA_RESP_ERR__PURGE_INFLIGHT.rawValue
        /// Used by this module for a consumer that was already closed.
        public static let destroyed: Int32 = RD_KAFKA_RESP_ERR__DESTROY.rawValue
    }
}

// MARK: - Building errors from librdkafka results (internal)

extension KafkaError {
    /// From a plain error code. `_FATAL` is resolved to the underlying fatal error when `handle` is given.
    init(_ err: rd_kafka_resp_err_t, _ what: String, handle: OpaquePointer? = nil) {
        var err = err
        var reason = String(cString: rd_kafka_err2str(err))
        var fatal = false
        if err == RD_KAFKA_RESP_ERR__FATAL {
            fatal = true
            if let handle {
                var buffer = [CChar](repeating: 0, count: 512)
                let underlying = rd_kafka_fatal_error(handle, &buffer, buffer.count)
                if underlying != RD_KAFKA_RESP_ERR_NO_ERROR {
                    err = underlying
                    reason = KafkaConfiguration.cString(buffer)
                }
            }
        }
        self.init(
            code: err.rawValue,
            name: String(cString: rd_kafka_err2name(err)),
            message: "\(what): \(reason)",
            isFatal: fatal,
            isRetriable: KafkaError.retriableCodes.contains(err.rawValue)
        )
    }

    /// From an `rd_kafka_error_t`, which it destroys.
    init(consuming error: OpaquePointer, _ what: String) {
        defer { rd_kafka_error_destroy(error) }
        self.init(
            code: rd_kafka_error_code(error).rawValue,
            name: String(cString: rd_kafka_error_name(error)),
            message: "\(what): \(String(cString: rd_kafka_error_string(error)))",
            isFatal: rd_kafka_error_is_fatal(error) != 0,
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            txnRequiresAbort: rd_kafka_error_txn_requires_abort(error) != 0
        )
    }

    /// Throws (and destroys) `error` if librdkafka returned one.
    static func check(_ error: OpaquePointer?, _ what: @autoclosure () -> String) throws(KafkaError) {
        if let error { throw KafkaError(consuming: error, what()) }
    }

    /// Throws unless `err` is `NO_ERROR`.
    static func check(_ err: rd_kafka_resp_err_t, _ what: @autoclosure () -> String, handle: OpaquePointer? = nil) throws(KafkaError) {
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { throw KafkaError(err, what(), handle: handle) }
    }

    /// An invalid or unknown configuration property. A secret value (`KafkaProperty.isSecret`) is shown as
    /// `<redacted>`, also where librdkafka's reason quotes it; the value of an unknown property (perhaps a misspelt
    /// secret one) is not shown at all.
    static func config(property: String, value: String, reason: String, unknown: Bool = false) -> KafkaError {
        let secret = KafkaProperty.isSecret(property)
        let shown = secret ? KafkaProperty.redactedValue : value
        let reason = secret || unknown ? KafkaProperty.scrub(reason, secrets: [value]) : reason
        return KafkaError(
            code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
            name: String(cString: rd_kafka_err2name(RD_KAFKA_RESP_ERR__INVALID_ARG)),
            message: unknown
                ? "unknown Kafka configuration property \"\(property)\": \(reason)"
                : "invalid Kafka configuration property \"\(property)\"=\"\(shown)\": \(reason)"
        )
    }

    /// Client-side conditions and broker errors that typically clear up on their own. librdkafka has no
    /// public "is retriable" for a bare code, so this is a conservative list.
    private static let retriableCodes: Set<Int32> = [
        RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__WAIT_COORD,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
        RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS,
        RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
    ].reduce(into: Set<Int32>()) { $0.insert($1.rawValue) }
}
