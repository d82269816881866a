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
        let vigil = try VigilProcess(h, name: "metrics", extra: ["--http-port", "0"])
        XCTAssertTrue(h.waitForApplied(input.count))
        let port = try XCTUnwrap(httpPort(in: vigil.log), vigil.log.suffix(2000).description)

        XCTAssertEqual(try RawClient.exchange(port: port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        let ready = try RawClient.exchange(port: port, "GET /readyz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(ready.statusLine, "HTTP/1.1 200 OK", ready.bodyText)

        let metrics = try RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n").bodyText
        func value(_ series: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) }
        }
        let decided = ["approve", "review", "block"].compactMap { value("vigil_transactions_total{verdict=\"\($0)\"}") }
        XCTAssertEqual(decided.count, 3)
        let late = try XCTUnwrap(value("vigil_late_total"))
        let dlq = try XCTUnwrap(value("vigil_dlq_total"))
        XCTAssertEqual(decided.reduce(0, +) + late + dlq, Double(input.count), "every record counted once")
        XCTAssertNotNil(value("vigil_end_to_end_latency_seconds_count"))
        XCTAssertTrue(metrics.contains("vigil_stage_seconds_bucket{stage=\"store\",le=\"+Inf\"}"))
        XCTAssertTrue(metrics.contains("vigil_model_info{version=\"baseline-"))
        XCTAssertTrue(metrics.contains("vigil_consumer_lag{topic=\"transactions\",partition=\"0\"} 0"), metrics)
        XCTAssertEqual(value("vigil_paused"), 0)
        XCTAssertFalse(metrics.contains("card-"), "no card tokens in metric labels")
        XCTAssertFalse(metrics.contains("tx-"), "no transaction ids in metric labels")

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
}
