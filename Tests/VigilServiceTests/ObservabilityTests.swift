import Foundation
import VigilService
import XCTest

/// `/healthz`, `/readyz` and `/metrics` of a running `vigil serve`.
final class ObservabilityTests: XCTestCase {
    func httpPort(in log: String) -> Int? {
        guard let range = log.range(of: "http.port=") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    func testHealthReadinessAndMetrics() throws {
        let h = try Harness()
        let input = traffic(count: 2000, seed: 31)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "metrics", extra: ["--http-port", "0", "--kafka-statistics-interval-ms", "200"])
        XCTAssertTrue(h.waitForApplied(input.count))
        let port = try XCTUnwrap(httpPort(in: vigil.log), vigil.log.suffix(2000).description)

        XCTAssertEqual(try RawClient.exchange(port: port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        let ready = try RawClient.exchange(port: port, "GET /readyz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(ready.statusLine, "HTTP/1.1 200 OK", ready.bodyText)

        let text = try RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n").bodyText
        let metrics = MetricsScrape(text)
        let decided = ["approve", "review", "block"].compactMap { metrics["vigil_transactions_total{verdict=\"\($0)\"}"] }
        XCTAssertEqual(decided.count, 3)
        let late = try XCTUnwrap(metrics["vigil_late_total"])
        let dlq = try XCTUnwrap(metrics.sum("vigil_dlq_total"), text)
        XCTAssertEqual(decided.reduce(0, +) + late + dlq, Double(input.count), "every record counted once")
        XCTAssertGreaterThan(metrics.series("vigil_dlq_total").count, 1, "by reason")
        XCTAssertEqual(metrics["vigil_dlq_total{reason=\"key_mismatch\"}"].map { $0 >= 0 }, true, "reasons without a field from the start")
        XCTAssertEqual(metrics["vigil_end_to_end_latency_seconds_count"], decided.reduce(0, +), text)
        XCTAssertNotNil(metrics["vigil_stage_seconds_bucket{stage=\"store\",le=\"+Inf\"}"], text)
        XCTAssertGreaterThan(metrics["vigil_redis_round_trip_seconds_count{operation=\"store\"}"] ?? 0, 0, text)
        XCTAssertTrue(text.contains("vigil_model_info{version=\"baseline-"))
        XCTAssertEqual(metrics["vigil_consumer_lag{topic=\"transactions\",partition=\"0\"}"], 0, text)
        XCTAssertNotNil(metrics["vigil_event_time_lag_seconds{topic=\"transactions\",partition=\"0\"}"], text)
        XCTAssertEqual(metrics["vigil_paused"], 0)
        XCTAssertEqual(metrics.types["vigil_transactions_total"], "counter")
        XCTAssertEqual(metrics.types["vigil_end_to_end_latency_seconds"], "histogram")
        XCTAssertNotNil(metrics.helps["vigil_consumer_lag"], "HELP lines kept")
        // Process, build and librdkafka's statistics (every 200 ms in this run).
        XCTAssertGreaterThan(metrics["process_resident_memory_bytes"] ?? 0, 1_000_000, text)
        XCTAssertGreaterThan(metrics["process_open_fds"] ?? 0, 2)
        XCTAssertNotNil(metrics["process_cpu_seconds_total"])
        XCTAssertTrue(text.contains("vigil_build_info{version=\"\(BuildInfo.version)\",librdkafka=\""), text)
        for client in ["consumer", "producer"] {
            XCTAssertTrue(metrics.series("vigil_kafka_broker_up").contains { $0.key.contains("client=\"\(client)\"") && $0.value == 1 },
                          "the \(client) is connected: \(text)")
        }
        XCTAssertFalse(metrics.series("vigil_kafka_broker_rtt_seconds").isEmpty, text)
        let samples = metrics.samples.keys.joined(separator: "\n")
        XCTAssertFalse(samples.contains("card-"), "no card tokens in metric labels")
        XCTAssertFalse(samples.contains("tx-"), "no transaction ids in metric labels")

        // Redis goes away: not ready within seconds (Redis is asked once a second, never inside the request), and
        // the reason says so.
        h.redis.kill()
        var degraded = try RawClient.exchange(port: port, "GET /readyz HTTP/1.1\r\n\r\n")
        let deadline = Date().addingTimeInterval(5)
        while degraded.statusLine != "HTTP/1.1 503 Service Unavailable", Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            degraded = try RawClient.exchange(port: port, "GET /readyz HTTP/1.1\r\n\r\n")
        }
        XCTAssertEqual(degraded.statusLine, "HTTP/1.1 503 Service Unavailable")
        XCTAssertTrue(degraded.bodyText.contains("redis unreachable"), degraded.bodyText)
        XCTAssertNotNil(vigil.terminate())
    }

    /// `--log-format json`: every line Vigil writes, librdkafka's included, is one JSON object.
    func testJSONLogFormat() throws {
        let h = try Harness()
        let input = traffic(count: 200, seed: 32)
        try h.publish(input)
        // debug=broker makes librdkafka write lines of its own, which must come through as JSON too.
        let vigil = try VigilProcess(h, name: "json-logs", extra: ["--log-format", "json", "--http-port", "0", "--kafka-property", "consumer.debug=broker"])
        XCTAssertTrue(h.waitForApplied(input.count))
        XCTAssertNotNil(vigil.terminate())
        let lines = vigil.log.split(separator: "\n").filter { !$0.isEmpty }
        var objects: [[String: Any]] = []
        for line in lines {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                return XCTFail("not a JSON object: \(line)")
            }
            objects.append(object)
        }
        let listening = objects.first { $0["message"] as? String == "health and metrics endpoint listening" }
        XCTAssertNotNil(listening?["http.port"] as? String, "metadata as fields")
        XCTAssertEqual(listening?["level"] as? String, "info")
        XCTAssertTrue(objects.contains { $0["logger"] as? String == "vigil.kafka" && $0["kafka.client"] != nil }, "librdkafka's lines")
        XCTAssertTrue(objects.allSatisfy { ($0["ts"] as? String)?.hasSuffix("Z") == true })
    }
}
