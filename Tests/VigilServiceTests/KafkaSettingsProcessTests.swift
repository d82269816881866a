import Foundation
import VigilService
import XCTest

/// `vigil serve` takes librdkafka settings from a properties file and the environment (docs/kafka-settings.md), and
/// their secret values appear nowhere it writes: not in its log, not in /metrics or /readyz, not on its command line.
final class KafkaSettingsProcessTests: ScratchDirectoryTestCase {
    private func httpPort(in log: String) -> Int? {
        guard let range = log.range(of: "http.port=") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    func testFileAndEnvironmentSettingsApplyAndSecretsStayOutOfLogsMetricsAndCommandLine() throws {
        let h = try Harness()
        let input = traffic(count: 600, seed: 41)
        try h.publish(input)
        let fileSecret = "file-S3KRIT-\(UUID().uuidString)"
        let envSecret = "env-S3KRIT-\(UUID().uuidString)"
        let commandLineSecret = "cli-S3KRIT-\(UUID().uuidString)"
        // SASL credentials with the plaintext protocol: librdkafka keeps them but never sends them, so the mock
        // cluster (which has no SASL) serves as usual, and it says it got them ("only applies when sasl.mechanism
        // ...") - proof that the file reached the clients.
        let properties = try file("kafka.properties", """
            # test settings
            security.protocol=plaintext
            sasl.username=vigil-test
            sasl.password=\(fileSecret)

            consumer.client.id=vigil-consumer-from-file
            """)
        let producerPassword = try file("producer-password", envSecret + "\n")
        let vigil = try VigilProcess(
            h, name: "kafka-settings", extra: ["--kafka-property", "producer.ssl.key.password=\(commandLineSecret)"],
            environment: [
                "VIGIL_KAFKA_CONFIG": properties, "VIGIL_KAFKA_PRODUCER_SASL_PASSWORD_FILE": producerPassword,
                // librdkafka's own configuration dump, which it redacts itself; Vigil warns of it.
                "VIGIL_KAFKA_DEBUG": "conf",
            ])
        XCTAssertTrue(h.waitForApplied(input.count), vigil.log.suffix(3000).description)
        let port = try XCTUnwrap(httpPort(in: vigil.log), vigil.log.suffix(2000).description)
        let metrics = try RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n").bodyText
        let ready = try RawClient.exchange(port: port, "GET /readyz HTTP/1.1\r\n\r\n").bodyText
        let commandLine = try String(
            decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(vigil.process.processIdentifier)/cmdline")), as: UTF8.self)
        let environment = try String(
            decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(vigil.process.processIdentifier)/environ")), as: UTF8.self)
        XCTAssertNotNil(vigil.terminate())
        let log = vigil.log

        // Applied, from where they were given.
        XCTAssertTrue(log.contains("client.id=vigil-consumer-from-file (\(properties) line 6)"), log)
        XCTAssertTrue(log.contains("sasl.password=<redacted> (\(properties) line 4)"), log)
        XCTAssertTrue(log.contains("sasl.password=<redacted> (VIGIL_KAFKA_PRODUCER_SASL_PASSWORD_FILE)"), log)
        XCTAssertTrue(log.contains("Configuration property `sasl.username` only applies"), log)
        // The secret on the command line is warned of, once, by name; so is the configuration dump.
        XCTAssertEqual(vigil.logCount("producer.ssl.key.password is given with --kafka-property"), 1, log)
        XCTAssertEqual(vigil.logCount("librdkafka debug=conf on the"), 2, log)
        XCTAssertTrue(log.contains("sasl.password = [redacted]"), "librdkafka redacts its dump")

        for secret in [fileSecret, envSecret, commandLineSecret] {
            XCTAssertFalse(log.contains(secret), "log shows a secret")
            XCTAssertFalse(metrics.contains(secret), "/metrics shows a secret")
            XCTAssertFalse(ready.contains(secret), "/readyz shows a secret")
        }
        XCTAssertFalse(commandLine.contains(fileSecret) || commandLine.contains(envSecret), commandLine)
        XCTAssertFalse(environment.contains(envSecret), "the _FILE variable carries a path, not the secret")
        XCTAssertTrue(commandLine.contains(commandLineSecret), "what the warning is about")
    }

    func testABadPropertiesFileStopsServeNamingTheLineNotItsText() throws {
        let h = try Harness()
        let properties = try file("kafka.properties", """
            sasl.username=vigil-test
            sasl.password hunter2-S3KRIT
            consumers.fetch.max.bytes=1048576
            """)
        let vigil = try VigilProcess(h, name: "kafka-settings-bad", extra: ["--kafka-config", properties])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 30), "still running")
        XCTAssertNotEqual(exit.status, 0)
        let log = vigil.log
        XCTAssertTrue(log.contains("\(properties) line 2: expected KEY=VALUE"), log)
        XCTAssertTrue(log.contains("\(properties) line 3: "), log)
        XCTAssertTrue(log.contains("No such configuration property"), log)
        XCTAssertFalse(log.contains("hunter2"), log)
    }
}
