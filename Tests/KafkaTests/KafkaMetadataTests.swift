import Kafka
import XCTest

/// (An unknown topic cannot be tested here: the mock cluster creates any topic a metadata request names.)
final class KafkaMetadataTests: XCTestCase {
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
