import CRdKafka

/// A Kafka producer.
///
/// `config` holds librdkafka properties ("bootstrap.servers", "enable.idempotence", "linger.ms", ...;
/// see librdkafka's CONFIGURATION.md). Delivery reports are tallied and handed out by `flush` (or
/// `takeDeliveryOutcome`); they are served whenever `produce` waits for queue space, `poll` or `flush` runs.
///
/// All methods block the calling thread (some for up to their timeout): call them from a dedicated
/// thread, not from Swift's cooperative pool. Release the producer only after `flush`; anything still
/// queued when it is destroyed is dropped.
public final class KafkaProducer: @unchecked Sendable {
    // @unchecked Sendable is safe: librdkafka's rd_kafka_t is thread-safe for every call made here
    // (produce, poll, flush, transactional API), and the only Swift state, `reports`, is Sendable.
    let handle: OpaquePointer
    private let reports: DeliveryReports
    /// Topic handles by name: producing by handle skips librdkafka's per-message topic lookup and refcounting.
    private let topics = Locked<[String: OpaquePointer]>([:])

    /// Creates the producer. Throws a `KafkaError` naming the property if any property is unknown or invalid.
    public init(config: [String: String]) throws(KafkaError) {
        let conf = try KafkaConfiguration.make(config)
        let reports = DeliveryReports()
        rd_kafka_conf_set_dr_msg_cb(conf, DeliveryReports.callback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(reports).toOpaque())
        self.handle = try KafkaConfiguration.newClient(RD_KAFKA_PRODUCER, conf, what: "Kafka producer")
        self.reports = reports
    }

    deinit {
        topics.withLock { handles in for (_, rkt) in handles { rd_kafka_topic_destroy(rkt) } }
        rd_kafka_destroy(handle)
    }

    /// Fetches metadata for `topics` now, so the first message to each does not wait for a metadata round trip
    /// (librdkafka looks a topic up on first use, which stalls that batch by up to a second). Throws if a topic's
    /// metadata cannot be had within `timeoutMs`.
    public func prepare(topics names: [String], timeoutMs: Int) throws(KafkaError) {
        for name in names {
            guard let rkt = topicHandle(name) else {
                throw KafkaError(rd_kafka_last_error(), "cannot create a handle for topic \(name)")
            }
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle, 0, rkt, &metadata, Int32(clamping: timeoutMs))
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            try KafkaError.check(err, "metadata of topic \(name)", handle: handle)
        }
    }

    /// The topic's handle, created once (with default topic configuration) and kept until the producer goes.
    private func topicHandle(_ name: String) -> OpaquePointer? {
        topics.withLock { handles in
            if let rkt = handles[name] { return rkt }
            guard let rkt = rd_kafka_topic_new(handle, name, nil) else { return nil }
            handles[name] = rkt
            return rkt
        }
    }

    /// Enqueues one message; `key`, `value` and headers are copied. `partition` nil lets the partitioner
    /// choose by key. When the local queue is full it serves delivery reports and retries until the
    /// message fits. Throws for anything else (unknown topic or partition, oversized message, fatal error).
    public func produce(
        topic: String, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = [], partition: Int32? = nil
    ) throws(KafkaError) {
        let error: KafkaError? = value.withUnsafeBytes { valueBytes in
            guard let key else {
                return enqueue(topic: topic, key: nil, value: valueBytes, headers: headers, partition: partition)
            }
            return key.withUnsafeBytes { keyBytes in
                enqueue(topic: topic, key: keyBytes, value: valueBytes, headers: headers, partition: partition)
            }
        }
        if let error { throw error }
    }

    /// Same as the array version, from raw buffers (no intermediate arrays on the hot path). A `tag` (>= 0) is
    /// reported back with the message's error in `DeliveryOutcome.failedTags` if its delivery fails.
    public func produce(
        topic: String, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: [KafkaHeader] = [], partition: Int32? = nil, tag: Int? = nil
    ) throws(KafkaError) {
        if let error = enqueue(topic: topic, key: key, value: value, headers: headers, partition: partition, tag: tag) {
            throw error
        }
    }

    /// Waits until every message produced so far is delivered or failed, then returns the outcome of all
    /// messages whose delivery reports arrived since the previous call. Throws a timeout `KafkaError` if
    /// messages are still outstanding after `timeoutMs`; their reports are counted by a later call.
    public func flush(timeoutMs: Int) throws(KafkaError) -> DeliveryOutcome {
        let err = rd_kafka_flush(handle, Int32(clamping: timeoutMs))
        if err == RD_KAFKA_RESP_ERR__TIMED_OUT {
            throw KafkaError(err, "flush: \(outstandingCount) messages still undelivered after \(timeoutMs) ms")
        }
        try KafkaError.check(err, "flush failed", handle: handle)
        return reports.take()
    }

    /// Drops every message not yet delivered (queued or in flight); their delivery reports fail with `_PURGE_QUEUE`
    /// or `_PURGE_INFLIGHT`. For giving up within a bound (shutdown) instead of waiting out `message.timeout.ms`.
    public func purge() {
        _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        rd_kafka_poll(handle, 0)
    }

    /// Returns the delivery outcome accumulated since the previous `flush`/`takeDeliveryOutcome`,
    /// without waiting.
    public func takeDeliveryOutcome() -> DeliveryOutcome {
        reports.take()
    }

    /// Serves delivery reports, waiting up to `timeoutMs` for the first one.
    public func poll(timeoutMs: Int) {
        rd_kafka_poll(handle, Int32(clamping: timeoutMs))
    }

    /// Messages not yet acknowledged or failed, plus requests in flight (`rd_kafka_outq_len`).
    public var outstandingCount: Int {
        Int(rd_kafka_outq_len(handle))
    }

    /// Puts one message on librdkafka's queue. Returns the error to throw, if any.
    private func enqueue(
        topic: String, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer,
        headers: [KafkaHeader], partition: Int32?, tag: Int? = nil
    ) -> KafkaError? {
        // librdkafka takes ownership of the header list only when produceva succeeds.
        var headerList = headers.isEmpty ? nil : KafkaProducer.makeHeaderList(headers)
        defer { if let headerList { rd_kafka_headers_destroy(headerList) } }

        let rkt = topicHandle(topic)
        return topic.withCString { topicName -> KafkaError? in
            withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { vus -> KafkaError? in
                var count = 0
                func append(_ fill: (inout rd_kafka_vu_t) -> Void) {
                    var vu = rd_kafka_vu_t()
                    fill(&vu)
                    vus.initializeElement(at: count, to: vu)
                    count += 1
                }
                if let rkt {
                    append { $0.vtype = RD_KAFKA_VTYPE_RKT; $0.u.rkt = rkt }
                } else {
                    append { $0.vtype = RD_KAFKA_VTYPE_TOPIC; $0.u.cstr = topicName }
                }
                append { $0.vtype = RD_KAFKA_VTYPE_MSGFLAGS; $0.u.i = RD_KAFKA_MSG_F_COPY }
                append {
                    $0.vtype = RD_KAFKA_VTYPE_VALUE
                    $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                    $0.u.mem.size = value.count
                }
                if let key {
                    append {
                        $0.vtype = RD_KAFKA_VTYPE_KEY
                        $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                        $0.u.mem.size = key.count
                    }
                }
                if let partition {
                    append { $0.vtype = RD_KAFKA_VTYPE_PARTITION; $0.u.i32 = partition }
                }
                if let headerList {
                    append { $0.vtype = RD_KAFKA_VTYPE_HEADERS; $0.u.headers = headerList }
                }
                if let tag, tag >= 0 {
                    append { $0.vtype = RD_KAFKA_VTYPE_OPAQUE; $0.u.ptr = UnsafeMutableRawPointer(bitPattern: tag + 1) }
                }
                defer { vus.prefix(count).deinitialize() }

                while true {
                    guard let error = rd_kafka_produceva(handle, vus.baseAddress, count) else {
                        headerList = nil  // now owned by the message
                        return nil
                    }
                    let code = rd_kafka_error_code(error)
                    if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                        rd_kafka_error_destroy(error)
                        rd_kafka_poll(handle, 100)  // serve delivery reports to make room
                        continue
                    }
                    if code == RD_KAFKA_RESP_ERR__FATAL {
                        // Report the underlying fatal error rather than the generic _FATAL.
                        rd_kafka_error_destroy(error)
                        return KafkaError(code, "produce to \(topic) failed", handle: handle)
                    }
                    return KafkaError(consuming: error, "produce to \(topic) failed")
                }
            }
        }
    }

    private static func makeHeaderList(_ headers: [KafkaHeader]) -> OpaquePointer {
        let list = rd_kafka_headers_new(headers.count)!
        for header in headers {
            var name = header.name
            name.withUTF8 { nameBytes in
                header.value.withUnsafeBytes { valueBytes in
                    _ = rd_kafka_header_add(list, nameBytes.baseAddress, nameBytes.count, valueBytes.baseAddress, valueBytes.count)
                }
            }
        }
        return list
    }
}
