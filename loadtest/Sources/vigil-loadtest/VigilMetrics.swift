import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Vigil's own view of where its time goes, from its Prometheus `/metrics` endpoint (`vigil serve --http-port`):
/// the per-stage time of its batches, scraped when the measurement starts and when it ends.
enum VigilMetrics {
    /// Every sample of the exposition, keyed by `name{labels}` as written.
    static func scrape(port: Int, timeoutSeconds: Double = 3) -> [String: Double]? {
        guard let text = httpGet(port: port, path: "/metrics", timeoutSeconds: timeoutSeconds) else { return nil }
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples.isEmpty ? nil : samples
    }

    /// A port that was free a moment ago on 127.0.0.1.
    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    /// GET over a plain socket (the endpoint answers one request per connection and closes it).
    private static func httpGet(port: Int, path: String, timeoutSeconds: Double) -> String? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: Int((timeoutSeconds - floor(timeoutSeconds)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = MonotonicClock.nowNs() + Int64(timeoutSeconds * 1e9)
        while MonotonicClock.nowNs() < deadline {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
            if response.count > 16 << 20 { break }
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200"), let body = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[body.upperBound...])
    }
}

/// Where Vigil's batches spent their time between two scrapes of its metrics.
struct StageBreakdown: Sendable, Codable {
    struct Stage: Sendable, Codable {
        var name: String
        var seconds: Double
        var batches: Double
    }

    var stages: [Stage]
    var batches: Double
    var records: Double
    /// Vigil's own mean end-to-end latency (record timestamp to acknowledged outputs), ms.
    var vigilMeanLatencyMs: Double?

    /// Batches that looked their merchants up in a merchant-risk snapshot.
    var merchantLookupBatches: Double = 0
    /// Exactly-once: Kafka transactions committed, and the batches they carried (several may share one).
    var transactions: Double = 0
    var transactionBatches: Double = 0

    var totalSeconds: Double { stages.reduce(0) { $0 + $1.seconds } }
    var meanBatchSize: Double { batches > 0 ? records / batches : 0 }

    static let stageOrder = ["poll", "decode", "load", "compute", "encode", "wait", "enqueue", "produce", "store", "commit"]

    init?(from before: [String: Double]?, to after: [String: Double]) {
        func delta(_ key: String) -> Double { (after[key] ?? 0) - (before?[key] ?? 0) }
        var stages: [Stage] = []
        for name in Self.stageOrder {
            let sum = "vigil_stage_seconds_sum{stage=\"\(name)\"}"
            guard after[sum] != nil else { continue }
            stages.append(Stage(name: name, seconds: delta(sum), batches: delta("vigil_stage_seconds_count{stage=\"\(name)\"}")))
        }
        guard !stages.isEmpty else { return nil }
        self.stages = stages
        batches = delta("vigil_batch_records_count")
        merchantLookupBatches = delta("vigil_merchant_risk_lookups_total")
        transactions = delta("vigil_kafka_transactions_committed_total")
        transactionBatches = delta("vigil_kafka_transaction_batches_total")
        records = delta("vigil_batch_records_sum")
        let latencyCount = delta("vigil_end_to_end_latency_seconds_count")
        vigilMeanLatencyMs = latencyCount > 0 ? delta("vigil_end_to_end_latency_seconds_sum") / latencyCount * 1000 : nil
    }
}
