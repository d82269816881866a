import Kafka
import Logging
import VigilCore
import XCTest

@testable import VigilService

/// `/metrics` through swift-prometheus: series mirrored from the stats, series that go away, histograms recorded at
/// the source, process and librdkafka figures, and the JSON log format.
final class MetricsExportTests: XCTestCase {
    func testMirroredCountersAndGaugesFollowTheStats() {
        let metrics = VigilMetrics()
        var s = PipelineStats.Snapshot()
        s.modelVersion = "m-1"
        s.verdicts = [.approve: 7, .block: 2]
        s.rejectedByReason = ["missing_field:card_id": 3]
        s.late = 4
        var first = MetricsScrape(metrics.render(.init(stats: s)))
        XCTAssertEqual(first["vigil_transactions_total{verdict=\"approve\"}"], 7)
        XCTAssertEqual(first["vigil_transactions_total{verdict=\"review\"}"], 0)
        XCTAssertEqual(first["vigil_transactions_total{verdict=\"block\"}"], 2)
        XCTAssertEqual(first["vigil_dlq_total{reason=\"missing_field:card_id\"}"], 3)
        XCTAssertEqual(first["vigil_dlq_total{reason=\"invalid_json\"}"], 0)
        XCTAssertEqual(first["vigil_late_total"], 4)
        XCTAssertEqual(first["vigil_model_info{version=\"m-1\"}"], 1)
        XCTAssertEqual(first.helps["vigil_late_total"], "Transactions beyond the allowed lateness, sent to the late topic.")

        // Counters are set to the stats' values at each scrape (not added up), and an info series whose label changed
        // leaves: one model version at a time.
        s.verdicts[.approve] = 9
        s.modelVersion = "m-2"
        first = MetricsScrape(metrics.render(.init(stats: s)))
        XCTAssertEqual(first["vigil_transactions_total{verdict=\"approve\"}"], 9)
        XCTAssertEqual(first["vigil_model_info{version=\"m-2\"}"], 1)
        XCTAssertNil(first["vigil_model_info{version=\"m-1\"}"], first.text)
    }

    func testPartitionsNoLongerReportedLeave() {
        let metrics = VigilMetrics()
        var inputs = VigilMetrics.Inputs(stats: PipelineStats.Snapshot())
        inputs.nowMs = 10_000
        inputs.lag = [TopicPartition(topic: "t", partition: 0): 5, TopicPartition(topic: "t", partition: 1): 6]
        inputs.stats.newestEventTimeMs = [TopicPartition(topic: "t", partition: 1): 7_500]
        var scrape = MetricsScrape(metrics.render(inputs))
        XCTAssertEqual(scrape["vigil_consumer_lag{topic=\"t\",partition=\"1\"}"], 6)
        XCTAssertEqual(scrape["vigil_event_time_lag_seconds{topic=\"t\",partition=\"1\"}"], 2.5)
        inputs.lag = [TopicPartition(topic: "t", partition: 0): 1]
        inputs.stats.newestEventTimeMs = [:]
        scrape = MetricsScrape(metrics.render(inputs))
        XCTAssertEqual(scrape["vigil_consumer_lag{topic=\"t\",partition=\"0\"}"], 1)
        XCTAssertNil(scrape["vigil_consumer_lag{topic=\"t\",partition=\"1\"}"])
        XCTAssertTrue(scrape.series("vigil_event_time_lag_seconds").isEmpty, scrape.text)
    }

    func testHistogramsRecordedAtTheSource() {
        let metrics = VigilMetrics()
        metrics.recordLatency(ms: 3)
        metrics.recordLatency(ms: 40)
        metrics.recordStage(.store, nanos: 2_000_000)
        metrics.recordRedisProbe(nanos: 300_000)
        metrics.recordBatch(records: 5)
        let scrape = MetricsScrape(metrics.render(.init(stats: PipelineStats.Snapshot())))
        XCTAssertEqual(scrape["vigil_end_to_end_latency_seconds_count"], 2)
        XCTAssertEqual(scrape["vigil_end_to_end_latency_seconds_bucket{le=\"0.005\"}"], 1, scrape.text)
        XCTAssertEqual(scrape["vigil_end_to_end_latency_seconds_bucket{le=\"0.05\"}"], 2)
        XCTAssertEqual(scrape["vigil_stage_seconds_count{stage=\"store\"}"], 1)
        XCTAssertEqual(scrape["vigil_stage_seconds_count{stage=\"load\"}"], 0)
        XCTAssertEqual(scrape["vigil_redis_round_trip_seconds_count{operation=\"store\"}"], 1, "a store is a Redis round trip")
        XCTAssertEqual(scrape["vigil_redis_round_trip_seconds_count{operation=\"probe\"}"], 1)
        XCTAssertEqual(scrape["vigil_batch_records_bucket{le=\"7.0\"}"], 1, scrape.text)
        XCTAssertEqual(scrape["vigil_batch_records_bucket{le=\"3.0\"}"], 0)
        XCTAssertEqual(scrape.types["vigil_stage_seconds"], "histogram")
    }

    func testProcessAndKafkaSeries() throws {
        var inputs = VigilMetrics.Inputs(stats: PipelineStats.Snapshot())
        inputs.process = ProcessStats(cpuSeconds: 1.5, residentBytes: 4096, virtualBytes: 8192, openFiles: 9, maxFiles: 1024, startTimeSeconds: 1.7e9)
        inputs.kafka = [try XCTUnwrap(KafkaStatistics.parse(Self.producerStatistics))]
        inputs.kafkaErrors = ["_TRANSPORT": 2]
        let scrape = MetricsScrape(VigilMetrics().render(inputs))
        XCTAssertEqual(scrape["process_cpu_seconds_total"], 1.5)
        XCTAssertEqual(scrape["process_resident_memory_bytes"], 4096)
        XCTAssertEqual(scrape["process_open_fds"], 9)
        XCTAssertEqual(scrape["vigil_kafka_errors_total{error=\"_TRANSPORT\"}"], 2)
        XCTAssertEqual(scrape["vigil_kafka_broker_up{client=\"producer\",broker=\"127.0.0.1:9092/1\"}"], 1, scrape.text)
        XCTAssertEqual(scrape["vigil_kafka_broker_up{client=\"producer\",broker=\"127.0.0.1:9093/2\"}"], 0)
        XCTAssertEqual(scrape["vigil_kafka_broker_rtt_seconds{client=\"producer\",broker=\"127.0.0.1:9092/1\"}"], 0.0015)
        XCTAssertEqual(scrape["vigil_kafka_producer_queue_messages"], 12)
        XCTAssertEqual(scrape["vigil_kafka_transaction_state{state=\"InTransaction\"}"], 1)
        XCTAssertTrue(scrape.text.contains("vigil_build_info{version=\"\(BuildInfo.version)\""), scrape.text)
    }

    func testKafkaStatisticsParse() throws {
        let stats = try XCTUnwrap(KafkaStatistics.parse(Self.producerStatistics))
        XCTAssertEqual(stats.name, "rdkafka#producer-1")
        XCTAssertEqual(stats.brokers.map(\.name), ["127.0.0.1:9092/1", "127.0.0.1:9093/2"], "bootstrap entries (node -1) left out")
        XCTAssertEqual(stats.brokers[0].rttAvgMicros, 1500)
        XCTAssertNil(stats.brokers[1].rttAvgMicros, "no requests yet: no round trip")
        XCTAssertEqual(stats.lags, [KafkaStatistics.PartitionLag(topic: "transactions", partition: 0, consumerLag: 42)],
                       "unknown lag (-1) and the internal partition -1 left out")
        XCTAssertNil(KafkaStatistics.parse("not json"))
        XCTAssertNil(KafkaStatistics.parse("{\"type\": \"producer\"}"), "no name")
    }

    func testProcessStatsParse() throws {
        let stat = "4242 (vigil (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 12 0 3000 123456789 2000 " + String(repeating: "0 ", count: 20)
        let p = try XCTUnwrap(ProcessStats.parse(stat: stat, systemStat: "cpu 1 2 3\nbtime 1700000000\n", ticksPerSecond: 100,
                                                 pageSize: 4096, openFiles: 7, maxFiles: 1024))
        XCTAssertEqual(p.cpuSeconds, 3.0, "utime 250 + stime 50 ticks at 100/s")
        XCTAssertEqual(p.startTimeSeconds, 1_700_000_030)
        XCTAssertEqual(p.virtualBytes, 123_456_789)
        XCTAssertEqual(p.residentBytes, 2000 * 4096)
        XCTAssertNil(ProcessStats.parse(stat: "garbage", systemStat: "", ticksPerSecond: 100, pageSize: 4096, openFiles: 0, maxFiles: 0))
        let now = try XCTUnwrap(ProcessStats.current())
        XCTAssertGreaterThan(now.residentBytes, 1 << 20)
        XCTAssertGreaterThan(now.openFiles, 2)
    }

    func testJSONLogLines() throws {
        let line = JSONLogHandler.line(
            date: Date(timeIntervalSince1970: 1_764_000_000.123), level: .warning, label: "vigil", source: "VigilService",
            message: "redis \"cannot\" take\nwrites", metadata: ["cause": "oom", "message": "shadowed", "n": .stringConvertible(3),
                                                                 "list": .array(["a", "b"])])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
        XCTAssertEqual(object["ts"] as? String, "2025-11-24T16:00:00.123Z")
        XCTAssertEqual(object["level"] as? String, "warning")
        XCTAssertEqual(object["logger"] as? String, "vigil")
        XCTAssertEqual(object["message"] as? String, "redis \"cannot\" take\nwrites")
        XCTAssertEqual(object["cause"] as? String, "oom")
        XCTAssertEqual(object["meta.message"] as? String, "shadowed", "a metadata key does not replace a fixed field")
        XCTAssertEqual(object["n"] as? String, "3")
        XCTAssertEqual(object["list"] as? [String], ["a", "b"])
        XCTAssertFalse(line.contains("\n"), "one line")
        XCTAssertEqual(JSONLogHandler.quoted("\u{1}"), "\"\\u0001\"")
    }

    static let producerStatistics = """
        {"name": "rdkafka#producer-1", "client_id": "vigil", "type": "producer", "msg_cnt": 12,
         "brokers": {
           "127.0.0.1:9092/bootstrap": {"name": "127.0.0.1:9092/bootstrap", "nodeid": -1, "state": "UP", "rtt": {"avg": 9, "cnt": 1}},
           "127.0.0.1:9092/1": {"name": "127.0.0.1:9092/1", "nodeid": 1, "state": "UP", "req_timeouts": 0, "txerrs": 1, "rxerrs": 0,
                                "rtt": {"min": 1000, "max": 2000, "avg": 1500, "cnt": 4}},
           "127.0.0.1:9093/2": {"name": "127.0.0.1:9093/2", "nodeid": 2, "state": "DOWN", "rtt": {"avg": 0, "cnt": 0}}},
         "topics": {"transactions": {"partitions": {
           "0": {"partition": 0, "consumer_lag": 42}, "1": {"partition": 1, "consumer_lag": -1},
           "-1": {"partition": -1, "consumer_lag": -1}}}},
         "eos": {"idemp_state": "Assigned", "txn_state": "InTransaction", "producer_id": 7}}
        """
}
