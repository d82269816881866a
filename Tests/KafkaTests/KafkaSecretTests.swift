import Foundation
import Kafka
import XCTest

/// Secret property values never reach a `KafkaError` message, whether librdkafka refuses the property itself or the
/// client made from it.
final class KafkaSecretTests: XCTestCase {
    func testARefusedSecretPropertyIsShownRedacted() {
        // This build of librdkafka has no OIDC, so it refuses the property; with OIDC it is accepted and the client
        // fails on the missing token endpoint instead. Either way the value must not show.
        let value = "oidc-S3KRIT"
        do {
            let producer = try KafkaProducer(config: [
                "bootstrap.servers": "127.0.0.1:1", "sasl.oauthbearer.client.secret": value, "no.such.property": "1",
            ])
            XCTFail("created \(producer)")
        } catch {
            XCTAssertFalse("\(error)".contains(value), "\(error)")
        }
        XCTAssertEqual(KafkaProperty.problem(name: "sasl.password", value: value), nil)
        // A misspelt secret property is unknown to librdkafka, and not recognisably secret: its value is not shown.
        let misspelt = KafkaProperty.problem(name: "sasl.passwd", value: value) ?? "accepted"
        XCTAssertTrue(misspelt.hasPrefix("unknown Kafka configuration property \"sasl.passwd\""), misspelt)
        XCTAssertFalse(misspelt.contains(value), misspelt)
        let refused = KafkaProperty.problem(name: "security.protocol", value: "bogus")
        XCTAssertTrue(refused?.contains("\"security.protocol\"=\"bogus\"") == true, refused ?? "accepted")
    }

    func testClientCreationFailureScrubsSecretValues() {
        // librdkafka refuses a private key that is not PEM when it builds the TLS context in rd_kafka_new.
        let key = "-----BEGIN PRIVATE KEY-----S3KRIT-----END PRIVATE KEY-----"
        XCTAssertThrowsError(try KafkaProducer(config: [
            "bootstrap.servers": "127.0.0.1:1", "security.protocol": "ssl", "ssl.key.pem": key,
            "ssl.key.password": "pass-S3KRIT",
        ])) { error in
            let message = (error as! KafkaError).message
            XCTAssertTrue(message.contains("creating Kafka producer failed"), message)
            XCTAssertFalse(message.contains("S3KRIT"), message)
        }
    }
}
