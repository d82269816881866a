import Foundation
import Kafka
import XCTest

final class KafkaTransactionTests: XCTestCase {
    /// The transactional call flow runs against the mock (which accepts but does not enforce transactions).
    func testTransactionCallFlow() throws {
        let cluster = try MockKafkaCluster()
        let input = uniqueName("in")
        let output = uniqueName("out")
        try cluster.createTopic(input, partitions: 1)
        try cluster.createTopic(output, partitions: 2)

        let consumer = try KafkaConsumer(config: consumerConfig(cluster, group: uniqueName("eos")))
        let metadata = try consumer.groupMetadata()
        let producer = try KafkaProducer(config: producerConfig(cluster, ["transactional.id": uniqueName("vigil-tx")]))

        try producer.initTransactions(timeoutMs: 10_000)
        try producer.beginTransaction()
        for index in 0..<20 {
            try producer.produce(topic: output, key: bytes("card-\(index)"), value: bytes("verdict-\(index)"))
        }
        try producer.sendOffsetsToTransaction([TopicPartition(topic: input, partition: 0): 20], groupMetadata: metadata, timeoutMs: 10_000)
        try producer.commitTransaction(timeoutMs: 10_000)
        XCTAssertEqual(producer.outstandingCount, 0)
        XCTAssertEqual(try producer.flush(timeoutMs: 1000).delivered, 20)

        try producer.beginTransaction()
        try producer.produce(topic: output, key: nil, value: bytes("to be aborted"))
        try producer.abortTransaction(timeoutMs: 10_000)

        // Committing with no open transaction is a state error, not a crash.
        XCTAssertThrowsError(try producer.commitTransaction(timeoutMs: 1000)) { error in
            let error = error as! KafkaError
            XCTAssertTrue(error.message.hasPrefix("commit transaction failed"), error.message)
            XCTAssertFalse(error.isFatal)
        }

        // So is beginning a transaction on a producer that never called initTransactions.
        let uninitialized = try KafkaProducer(config: producerConfig(cluster, ["transactional.id": uniqueName("tx")]))
        XCTAssertThrowsError(try uninitialized.beginTransaction()) { error in
            XCTAssertTrue((error as! KafkaError).message.hasPrefix("begin transaction failed"))
        }
    }
}
