import CRdKafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turning polled librdkafka events into `KafkaMessage` values.
extension KafkaConsumer {
    /// Removes messages of `revoked` partitions; returns how many were removed.
    static func removeMessages(of revoked: Set<TopicPartition>, from messages: inout [KafkaMessage]) -> Int {
        let before = messages.count
        messages.removeAll { revoked.contains($0.topicPartition) }
        return before - messages.count
    }

    /// Converts a polled event into a message; nil for events that are skipped (EOF, non-fatal errors).
    func convert(_ raw: UnsafeMutablePointer<rd_kafka_message_t>, _ topicNames: inout TopicNameCache) throws(KafkaError) -> KafkaMessage? {
        let m = raw.pointee
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
            let topic = m.rkt.map { topicNames.name(of: $0) }
            let what = topic.map { "consume from \($0)[\(m.partition)] failed" } ?? "consume failed"
            if m.err == RD_KAFKA_RESP_ERR__FATAL { throw KafkaError(m.err, what, handle: handle) }
            var error = KafkaError(m.err, what)
            if let detail = rd_kafka_message_errstr(raw) { error.message = "\(what): \(String(cString: detail))" }
            counters.withLock {
                $0.consumeErrors += 1
                $0.lastConsumeError = error
            }
            return nil
        }

        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(raw, &timestampType)
        return KafkaMessage(
            topic: m.rkt.map { topicNames.name(of: $0) } ?? "",
            partition: m.partition,
            offset: m.offset,
            key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
            value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) } ?? [],
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp,
            headers: KafkaConsumer.headers(of: raw)
        )
    }

    /// Headers are parsed by librdkafka on first access; a message without any costs one size check.
    private static func headers(of raw: UnsafeMutablePointer<rd_kafka_message_t>) -> [(String, [UInt8])] {
        var list: OpaquePointer?
        guard rd_kafka_message_headers(raw, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return [] }
        let count = rd_kafka_header_cnt(list)
        var headers: [(String, [UInt8])] = []
        headers.reserveCapacity(count)
        for index in 0..<count {
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let name else { continue }
            headers.append((String(cString: name), value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []))
        }
        return headers
    }
}

/// Remembers topic names per `rd_kafka_topic_t` for one batch, to build each name String once.
struct TopicNameCache {
    private var handle: OpaquePointer?
    private var cached = ""

    mutating func name(of topic: OpaquePointer) -> String {
        if topic != handle {
            handle = topic
            cached = String(cString: rd_kafka_topic_name(topic))
        }
        return cached
    }
}

enum Monotonic {
    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
