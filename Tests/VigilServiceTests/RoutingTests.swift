import Foundation
import Kafka
import Logging
import VigilCore
import VigilService
import XCTest

/// Cards published to two partitions by payment systems with different partitioners (issue 9, item 7): every
/// partition's features stay exact for what that partition saw, and the misrouted records are counted.
final class RoutingTests: XCTestCase {
    func testCardsOnTwoPartitionsKeepEachPartitionsFeaturesExactAndAreCounted() throws {
        let h = try Harness(partitions: 4)
        let input = traffic(count: 3000, seed: 31)
        // Two publishers, interleaved: one with librdkafka's default (crc32) and one with Java's (murmur2). Each record
        // says which one published it, to check the partitioners against librdkafka's own.
        let publishers = try ["consistent_random", "murmur2_random"].map { partitioner in
            try KafkaProducer(config: [
                "bootstrap.servers": h.cluster.bootstrapServers, "enable.idempotence": "true", "linger.ms": "5",
                "partitioner": partitioner,
            ])
        }
        // Flushed every 40 records, so that neither runs ahead of the other by more than the allowed lateness.
        for (i, m) in input.enumerated() {
            let name = i % 2 == 0 ? "crc32" : "murmur2"
            try publishers[i % 2].produce(
                topic: h.config.topics.transactions, key: m.key, value: m.value,
                headers: [KafkaHeader(name: "test.partitioner", value: Array(name.utf8))])
            if i % 40 == 39 || i == input.count - 1 {
                for p in publishers { XCTAssertEqual(try p.flush(timeoutMs: 20_000).failed, 0) }
            }
        }

        let published = try h.readAll(h.config.topics.transactions)
        var partitionsOfCard: [[UInt8]: Set<Int32>] = [:]
        for m in published {
            guard let key = m.key, !key.isEmpty, let name = header(m, "test.partitioner") else { continue }
            let partitioner = try XCTUnwrap(Partitioner(rawValue: name))
            XCTAssertEqual(m.partition, partitioner.partition(of: key, partitionCount: 4),
                           "\(name) agrees with librdkafka's partitioner")
            partitionsOfCard[key, default: []].insert(m.partition)
        }
        let splitCards = partitionsOfCard.values.filter { $0.count > 1 }.count
        XCTAssertGreaterThan(splitCards, 20, "most cards' histories are split across two partitions")

        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count), "processed \(runner.pipeline.stats.snapshot.processed)")
        runner.stop()
        let stats = runner.pipeline.stats.snapshot
        XCTAssertGreaterThan(stats.misroutedRecords, 300, "misrouted records are counted")
        XCTAssertNotNil(stats.inputPartitioner, "auto chose one of the two")
        XCTAssertTrue(VigilMetrics().render(.init(stats: stats)).contains("vigil_misrouted_records_total \(stats.misroutedRecords)\n"))
        // Every feature vector is exact for the history its partition saw.
        let decided = try checkOutputs(h)
        XCTAssertGreaterThan(decided, 2500)
    }

    func testOnePartitionerIsLearnedAndNothingIsMisrouted() throws {
        let h = try Harness(partitions: 4)
        let input = traffic(count: 800, seed: 32)
        try h.publish(input)  // librdkafka's default partitioner: crc32
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count))
        runner.stop()
        let stats = runner.pipeline.stats.snapshot
        XCTAssertEqual(stats.misroutedRecords, 0)
        XCTAssertEqual(stats.inputPartitioner, "crc32")
        XCTAssertTrue(VigilMetrics().render(.init(stats: stats)).contains("vigil_input_partitioner_info{partitioner=\"crc32\"} 1.0\n"))
        try checkOutputs(h)
    }

    func testANamedPartitionerTheRecordsDoNotFollowCountsThemAll() throws {
        let h = try Harness(partitions: 4)
        h.config.inputPartitioner = .murmur2
        let input = traffic(count: 600, seed: 33)
        try h.publish(input)  // crc32
        let published = try h.readAll(h.config.topics.transactions)
        let elsewhere = published.filter { m in
            guard let key = m.key, !key.isEmpty else { return false }
            return Partitioner.murmur2.partition(of: key, partitionCount: 4) != m.partition
        }.count
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count))
        runner.stop()
        XCTAssertEqual(runner.pipeline.stats.snapshot.misroutedRecords, elsewhere)
        XCTAssertGreaterThan(elsewhere, 0)
    }
}
