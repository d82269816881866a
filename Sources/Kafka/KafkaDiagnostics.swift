import CRdKafka
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What librdkafka says about itself, for the whole process: its log lines and client-level errors (handed to one
/// handler, `vigil serve` routes them into swift-log), error counts by name, and the latest statistics of each client
/// (`statistics.interval.ms`), parsed.
///
/// Every client made by this module (consumer, producer, metadata client) reports here: `KafkaConfiguration.make`
/// installs the log and statistics callbacks. librdkafka calls them from its own threads (logs) and from the polls
/// (statistics, errors), so everything here is behind one lock and the handler must be thread-safe.
public enum KafkaDiagnostics {
    /// One log line of librdkafka: `level` is syslog's (3 error, 4 warning, 5 notice, 6 info, 7 debug).
    public struct LogLine: Sendable, Equatable {
        public var level: Int32
        public var facility: String
        /// The client's name, e.g. `rdkafka#consumer-1`.
        public var client: String
        public var message: String
    }

    private struct State {
        var handler: (@Sendable (LogLine) -> Void)?
        var errors: [String: Int] = [:]
        /// Kept as librdkafka wrote it: parsed when asked for (a scrape), not on the poll that delivered it (the
        /// pipeline's thread), since a document with many partitions is large.
        var statistics: [String: (json: String, receivedMs: Int64)] = [:]
    }

    private static let state = Mutex(State())

    /// Where log lines go from now on; nil: to standard error in librdkafka's own format (the default).
    public static func setLogHandler(_ handler: (@Sendable (LogLine) -> Void)?) {
        state.withLock { $0.handler = handler }
    }

    /// Client-level errors reported by librdkafka since the start, by error name (e.g. `_TRANSPORT`, `_ALL_BROKERS_DOWN`).
    public static var errorCounts: [String: Int] { state.withLock { $0.errors } }

    /// The latest statistics of each client that reported within `maxAgeMs` (clients destroyed since stop reporting
    /// and age out), oldest report first.
    public static func latestStatistics(maxAgeMs: Int64) -> [KafkaStatistics] {
        let nowMs = Monotonic.nowMs()
        let fresh = state.withLock { s in
            s.statistics = s.statistics.filter { nowMs - $0.value.receivedMs <= maxAgeMs }
            return s.statistics.values.sorted { $0.receivedMs < $1.receivedMs }
        }
        return fresh.compactMap { KafkaStatistics.parse($0.json) }
    }

    static func log(_ line: LogLine) {
        if let handler = state.withLock({ $0.handler }) {
            handler(line)
        } else {
            let text = Array("%\(line.level)|\(line.facility)|\(line.client)| \(line.message)\n".utf8)
            _ = text.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    /// A client-level error: counted, and logged at error level (librdkafka logs them itself only without an error
    /// callback, and every client here has one).
    static func clientError(client: String, code: Int32, text: String) {
        let name = String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(code)))
        state.withLock { $0.errors[name, default: 0] += 1 }
        log(LogLine(level: 3, facility: "ERROR", client: client, message: "\(text) (\(name))"))
    }

    static func received(statistics json: String, client: String) {
        let now = Monotonic.nowMs()
        state.withLock { $0.statistics[client] = (json, now) }
    }

    /// Installs the log, error and statistics callbacks on a configuration. The error callback receives the client's
    /// opaque; `errorCallback` here ignores it, so a client with an opaque of its own installs its own error callback
    /// after this (the consumer does) and reports through `clientError`.
    static func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_log_cb(conf, logCallback)
        rd_kafka_conf_set_error_cb(conf, errorCallback)
        rd_kafka_conf_set_stats_cb(conf, statsCallback)
    }

    private static let logCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = {
        rk, level, facility, buf in
        let client = rk.map { String(cString: rd_kafka_name($0)) } ?? "rdkafka"
        log(LogLine(level: level, facility: facility.map { String(cString: $0) } ?? "", client: client,
                    message: buf.map { String(cString: $0) } ?? ""))
    }

    private static let errorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
        rk, err, reason, _ in
        let text = reason.map { String(cString: $0) } ?? String(cString: rd_kafka_err2str(rd_kafka_resp_err_t(err)))
        clientError(client: rk.map { String(cString: rd_kafka_name($0)) } ?? "rdkafka", code: err, text: text)
    }

    /// Returns 0: librdkafka frees the JSON after the call.
    private static let statsCallback: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
        rk, json, length, _ in
        guard let json else { return 0 }
        let text = json.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        received(statistics: text, client: rk.map { String(cString: rd_kafka_name($0)) } ?? "rdkafka")
        return 0
    }
}
