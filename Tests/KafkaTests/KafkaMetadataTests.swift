import Foundation
import Kafka
import XCTest

/// One Metadata request for all topics, on the mock cluster and against a port nobody listens on.
final class KafkaMetadataTests: XCTestCase {
    func testListsBrokersAndTopicsAndCreatesNone() throws {
        let cluster = try MockKafkaCluster(brokers: 2)
        let topic = uniqueName("meta")
        try cluster.createTopic(topic, partitions: 3)
        let metadata = try KafkaMetadata.fetch(config: ["bootstrap.servers": cluster.bootstrapServers], timeoutMs: 5000)
        XCTAssertEqual(metadata.brokers.map(\.id).sorted(), [1, 2])
        XCTAssertEqual(metadata.topics[topic], KafkaMetadata.Topic(partitions: 3, error: KafkaError.Code.noError, errorText: "Success"))
        XCTAssertNil(metadata.topics["never-created"])
        let again = try KafkaMetadata.fetch(config: ["bootstrap.servers": cluster.bootstrapServers], timeoutMs: 5000)
        XCTAssertEqual(Set(again.topics.keys), Set(metadata.topics.keys), "asking created nothing")
    }

    func testNoBrokerAnsweringIsATimeoutWithTheClientsReason() throws {
        let start = Date()
        XCTAssertThrowsError(try KafkaMetadata.fetch(config: ["bootstrap.servers": "127.0.0.1:1"], timeoutMs: 1500)) { error in
            let message = (error as? KafkaError)?.message ?? "\(error)"
            XCTAssertTrue(message.hasPrefix("no broker answered within 1.5 s"), message)
            XCTAssertTrue(message.contains("Connection refused"), message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 4)
    }

    func testAnInvalidPropertyIsNamed() {
        XCTAssertThrowsError(try KafkaMetadata.fetch(config: ["bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"], timeoutMs: 1000)) {
            XCTAssertEqual(($0 as? KafkaError)?.code, KafkaError.Code.invalidArgument)
            XCTAssertTrue("\($0)".contains("no.such.property"), "\($0)")
        }
    }

    func testPartitionCountComesFromTheBroker() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("payments")
        try cluster.createTopic(topic, partitions: 6)
        let consumer = try KafkaConsumer(config: consumerConfig(cluster))
        XCTAssertEqual(try consumer.partitionCount(of: topic, timeoutMs: 5000), 6)
        try cluster.createTopic(topic + "-one", partitions: 1)
        XCTAssertEqual(try consumer.partitionCount(of: topic + "-one", timeoutMs: 5000), 1)
    }
}
