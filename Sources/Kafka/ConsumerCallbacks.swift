import CRdKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The target of the consumer's librdkafka callbacks (rebalance, offset commit results) and the bookkeeping
/// `pollBatch` needs about revocations.
///
/// It is the `opaque` of the consumer's `rd_kafka_t`, passed unretained: the consumer owns it and destroys
/// the handle before releasing it, so the pointer is valid whenever librdkafka can call back.
final class ConsumerCallbacks: Sendable {
    private struct State {
        var handler: RebalanceHandler?
        /// Partitions revoked since `pollBatch` last called `startBatch`.
        var revoked: Set<TopicPartition> = []
        /// A failed (incremental) assign/unassign, thrown by the next `pollBatch`.
        var pendingError: KafkaError?
        /// Offset commits (sync or async) the broker or client reported as failed.
        var commitFailures = 0
        var lastCommitError: KafkaError?
        /// The last error about the client's connections (all brokers down, transport, name resolution,
        /// authentication) and when it came (monotonic ms).
        var lastClientError: (error: KafkaError, atMs: Int64)?
    }

    private let state: Locked<State>

    init(handler: RebalanceHandler?) {
        state = Locked(State(handler: handler))
    }

    var handler: RebalanceHandler? {
        get { state.withLock { $0.handler } }
        set { state.withLock { $0.handler = newValue } }
    }

    /// Forgets earlier revocations; returns (and clears) a pending assignment error.
    func startBatch() -> KafkaError? {
        state.withLock { state in
            state.revoked.removeAll(keepingCapacity: true)
            defer { state.pendingError = nil }
            return state.pendingError
        }
    }

    var commitFailures: (count: Int, last: KafkaError?) {
        state.withLock { ($0.commitFailures, $0.lastCommitError) }
    }

    /// Partitions revoked since `startBatch`, or nil if none.
    func revokedSinceStart() -> Set<TopicPartition>? {
        state.withLock { $0.revoked.isEmpty ? nil : $0.revoked }
    }

    private func handle(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let partitions = PartitionList.partitions(in: list)
        let handler = self.handler

        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if let handler {
                let overrides = handler.onAssign(partitions)
                if !overrides.isEmpty {
                    // Changing offsets in this list is the documented way to choose starting positions.
                    let elements = PartitionList.elements(of: list)
                    for index in elements.indices {
                        if let offset = overrides[TopicPartition(elements[index])] { elements[index].offset = offset }
                    }
                }
            }
            if cooperative {
                if let error = rd_kafka_incremental_assign(rk, list) {
                    record(KafkaError(consuming: error, "incremental assign of \(partitions) failed"))
                }
            } else {
                let result = rd_kafka_assign(rk, list)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR { record(KafkaError(result, "assign of \(partitions) failed")) }
            }

        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            state.withLock { $0.revoked.formUnion(partitions) }
            handler?.onRevoke(partitions)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(rk, list) {
                    record(KafkaError(consuming: error, "incremental unassign of \(partitions) failed"))
                }
            } else {
                let result = rd_kafka_assign(rk, nil)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR { record(KafkaError(result, "unassign failed")) }
            }

        default:
            // Rebalance error: drop the assignment to stay in sync with the group, as librdkafka recommends.
            record(KafkaError(err, "rebalance failed"))
            state.withLock { $0.revoked.formUnion(partitions) }
            _ = rd_kafka_assign(rk, nil)
        }
    }

    private func committed(_ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        var error: KafkaError?
        if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET {
            error = KafkaError(err, "offset commit failed")
        } else if let list, let failed = PartitionList.elements(of: list).first(where: { $0.err != RD_KAFKA_RESP_ERR_NO_ERROR }) {
            error = KafkaError(failed.err, "offset commit failed (\(TopicPartition(failed)))")
        }
        guard let error else { return }
        state.withLock {
            $0.commitFailures += 1
            $0.lastCommitError = error
        }
    }

    var lastClientError: (error: KafkaError, atMs: Int64)? { state.withLock { $0.lastClientError } }

    private func clientError(_ err: Int32, _ reason: String) {
        let error = KafkaError(rd_kafka_resp_err_t(err), reason)
        state.withLock { $0.lastClientError = (error, Monotonic.nowMs()) }
    }

    private func record(_ error: KafkaError) {
        state.withLock { if $0.pendingError == nil { $0.pendingError = error } }
    }

    static let rebalanceCallback: @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { rk, err, list, opaque in
        guard let rk, let list, let opaque else { return }
        Unmanaged<ConsumerCallbacks>.fromOpaque(opaque).takeUnretainedValue().handle(rk, err, list)
    }

    /// librdkafka's client-level errors (served by the consumer poll). Without this callback librdkafka logs them;
    /// with it they are kept for readiness (`KafkaConsumer.recentClientError`), counted and logged (`KafkaDiagnostics`).
    static let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
        rk, err, reason, opaque in
        guard let opaque else { return }
        let text = reason.map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(err)))
        KafkaDiagnostics.clientError(client: rk.map { String(cString: rd_kafka_name($0)) } ?? "consumer", code: err, text: text)
        Unmanaged<ConsumerCallbacks>.fromOpaque(opaque).takeUnretainedValue().clientError(err, text)
    }

    static let offsetCommitCallback: @convention(c) (
        OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?
    ) -> Void = { _, err, list, opaque in
        guard let opaque else { return }
        Unmanaged<ConsumerCallbacks>.fromOpaque(opaque).takeUnretainedValue().committed(err, list)
    }
}
