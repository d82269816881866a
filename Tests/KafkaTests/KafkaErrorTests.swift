import Foundation
import Kafka
import XCTest

final class KafkaErrorTests: XCTestCase {
    func testUnknownPropertyIsNamedInError() {
        XCTAssertThrowsError(try KafkaProducer(config: ["bootstrap.servers": "127.0.0.1:1", "no.such.property": "1"])) { error in
            let error = error as! KafkaError
            XCTAssertTrue(error.message.contains("no.such.property"), error.message)
            XCTAssertEqual(error.code, KafkaError.Code.invalidArgument)
            XCTAssertEqual(error.name, "_INVALID_ARG")
            XCTAssertFalse(error.isFatal)
        }
        XCTAssertThrowsError(try KafkaConsumer(config: ["linger.ms": "1", "fetch.wait.max.ms": "not-a-number"])) { error in
            let message = (error as! KafkaError).message
            XCTAssertTrue(message.contains("fetch.wait.max.ms"), message)
        }
        XCTAssertThrowsError(try KafkaProducer(config: ["sasl.password": "hunter2", "nope": "x"])) { error in
            XCTAssertTrue((error as! KafkaError).message.contains("nope"))
        }
    }

    func testBadPropertyCombinationFailsClientCreation() {
        // Each property is valid alone; rd_kafka_new rejects the combination.
        XCTAssertThrowsError(try KafkaProducer(config: ["enable.idempotence": "true", "acks": "1"])) { error in
            let message = (error as! KafkaError).message
            XCTAssertTrue(message.contains("creating Kafka producer failed"), message)
        }
    }

    /// With the only broker down, messages fail after `message.timeout.ms` instead of hanging.
    func testProduceToDownBrokerFailsWithinMessageTimeout() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("dlq")
        try cluster.createTopic(topic, partitions: 1)
        try cluster.setBrokerDown(1)
        let producer = try KafkaProducer(config: [
            "bootstrap.servers": cluster.bootstrapServers, "message.timeout.ms": "1500", "log_level": "0",
        ])
        for index in 0..<10 {
            try producer.produce(topic: topic, key: nil, value: bytes("m-\(index)"))
        }
        let started = Date()
        var outcome = DeliveryOutcome()
        do {
            outcome = try producer.flush(timeoutMs: 10_000)
        } catch {
            XCTAssertTrue(error.isTimeout, "\(error)")
            outcome = producer.takeDeliveryOutcome()
        }
        let elapsed = Date().timeIntervalSince(started)
        print("down broker: flush returned after \(elapsed) s with \(outcome)")
        XCTAssertLessThan(elapsed, 10)
        XCTAssertEqual(outcome.delivered, 0)
        XCTAssertEqual(outcome.failed, 10)
        XCTAssertEqual(outcome.errors.count, DeliveryOutcome.maxErrors)
        let first = try XCTUnwrap(outcome.errors.first)
        XCTAssertEqual(first.code, KafkaError.Code.messageTimedOut)
        XCTAssertTrue(first.message.contains("delivery to \(topic)"), first.message)

        // Back up: new messages go through.
        try cluster.setBrokerUp(1)
        try producer.produce(topic: topic, key: nil, value: bytes("after"))
        XCTAssertEqual(try producer.flush(timeoutMs: 10_000).delivered, 1)
    }

    /// Injected retriable Produce errors are retried by the idempotent producer without losing messages;
    /// non-retriable ones and bad partitions are reported.
    func testInjectedProduceErrorsAndBadPartitions() throws {
        let cluster = try MockKafkaCluster()
        let topic = uniqueName("retry")
        try cluster.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(config: producerConfig(cluster, ["retry.backoff.ms": "10"]))
        // Warm up metadata and the producer id first so the errors hit Produce requests.
        try producer.produce(topic: topic, key: nil, value: bytes("warm-up"))
        XCTAssertEqual(try producer.flush(timeoutMs: 10_000).delivered, 1)

        let notEnoughReplicas: Int32 = 19
        try cluster.pushRequestErrors(apiKey: 0, errors: [notEnoughReplicas, notEnoughReplicas])
        try producer.produce(topic: topic, key: nil, value: bytes("through errors"))
        let outcome = try producer.flush(timeoutMs: 10_000)
        XCTAssertEqual(outcome.delivered, 1, "\(outcome.errors)")
        cluster.clearRequestErrors(apiKey: 0)

        // A non-retriable injected error fails the message and is reported with its broker error code.
        let plain = try KafkaProducer(config: ["bootstrap.servers": cluster.bootstrapServers])
        try plain.produce(topic: topic, key: nil, value: bytes("warm-up"))
        XCTAssertEqual(try plain.flush(timeoutMs: 10_000).delivered, 1)
        let messageTooLarge: Int32 = 10
        try cluster.pushRequestErrors(apiKey: 0, errors: [messageTooLarge])
        try plain.produce(topic: topic, key: nil, value: bytes("rejected"))
        let rejected = try plain.flush(timeoutMs: 10_000)
        XCTAssertEqual(rejected.failed, 1)
        XCTAssertEqual(rejected.errors.first?.code, messageTooLarge)
        XCTAssertEqual(rejected.errors.first?.name, "MSG_SIZE_TOO_LARGE")

        // The partition count is known now, so a produce to a partition that does not exist fails at once.
        XCTAssertThrowsError(try producer.produce(topic: topic, key: nil, value: bytes("y"), partition: 7)) { error in
            let error = error as! KafkaError
            XCTAssertEqual(error.code, KafkaError.Code.unknownPartition)
            XCTAssertTrue(error.message.hasPrefix("produce to \(topic) failed"), error.message)
        }
    }
}
