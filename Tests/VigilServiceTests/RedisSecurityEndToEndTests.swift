import Foundation
import Kafka
import Redis
import VigilService
import XCTest

/// The real `vigil serve` against a redis-server with TLS only and an ACL user (the default user off): it decides, and
/// the password shows nowhere an operator or another user of the machine could see it.
final class RedisSecurityEndToEndTests: XCTestCase {
    let password = "Vigil-e2e-\(UUID().uuidString)"

    func httpPort(in log: String) -> Int? {
        guard let range = log.range(of: "http.port=") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    /// The ACL of docs/redis-security.md: Vigil's keys only, and only the commands Vigil sends (and its scripts call).
    static let minimalRules = "~vigil:* resetchannels -@all +get +set +mget +hmget +hset +hincrby +hlen +del +rpush +lrange +pexpire +persist +evalsha +script|load +ping +info +config|get"

    func testServeOverTLSAsAnACLUserKeepsThePasswordOutOfSight() throws {
        let certificates = try RedisTestCertificates.make()
        defer { certificates.remove() }
        let redis = try RedisServerProcess.start(
            tls: certificates.serverTLS(),
            users: [
                RedisServerUser(name: "vigil", password: password, rules: Self.minimalRules),
                RedisServerUser(name: "admin", password: "admin-\(password)"),
            ])
        defer { redis.stop() }
        let h = try Harness(partitions: 2)
        h.config.redisPort = redis.port
        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("redis-password-\(UUID().uuidString)").path
        try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }

        let input = traffic(count: 1500, seed: 23)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "redis-tls", extra: [
            "--redis-user", "vigil", "--redis-password-file", passwordFile, "--redis-tls", "--redis-tls-ca", certificates.caFile,
        ])
        let store = StateStore(endpoint: redis.endpoint, prefix: h.config.redisPrefix)
        func applied() -> Int64 {
            (0..<h.partitions).reduce(0) { total, p in
                let record = try? store.loadPartition(TopicPartition(topic: h.config.topics.transactions, partition: p))
                return total + ((record?.applied).map { $0 + 1 } ?? 0)
            }
        }
        XCTAssertTrue(waitUntil(timeout: 120) { applied() >= Int64(input.count) }, vigil.log.suffix(3000).description)
        let decisions = try h.readAll(h.config.topics.decisions)
        XCTAssertGreaterThan(decisions.count, input.count / 2)

        // Redis sees Vigil's connections as the ACL user, over TLS.
        var adminEndpoint = redis.endpoint
        adminEndpoint.credentials = RedisCredentials(user: "admin", password: "admin-\(password)")
        let admin = try RedisConnection(endpoint: adminEndpoint)
        let denied = try XCTUnwrap(admin.send("ACL", "LOG").array)
        XCTAssertTrue(denied.isEmpty, "the minimal ACL refused something Vigil sent: \(denied)")
        let clients = try XCTUnwrap(admin.send("CLIENT", "LIST").string)
        XCTAssertGreaterThan(clients.components(separatedBy: "user=vigil").count - 1, 1, clients)

        let port = try XCTUnwrap(httpPort(in: vigil.log), vigil.log.suffix(2000).description)
        let metrics = try RawClient.exchange(port: port, "GET /metrics HTTP/1.1\r\n\r\n").bodyText
        XCTAssertTrue(metrics.contains("vigil_transactions_total"), metrics)
        let pid = vigil.process.processIdentifier
        let commandLine = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
        let environment = String(decoding: try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
        XCTAssertTrue(commandLine.contains("--redis-password-file"))
        XCTAssertNotNil(vigil.terminate())
        for (place, text) in [("stdout/stderr", vigil.log), ("/metrics", metrics), ("cmdline", commandLine), ("environ", environment)] {
            XCTAssertFalse(text.contains(password), "the password shows in \(place)")
        }
    }

    func testWrongPasswordStopsServeAtOnceNamingTheRefusal() throws {
        let certificates = try RedisTestCertificates.make()
        defer { certificates.remove() }
        let redis = try RedisServerProcess.start(
            tls: certificates.serverTLS(), users: [RedisServerUser(name: "vigil", password: password)])
        defer { redis.stop() }
        let h = try Harness(partitions: 1)
        h.config.redisPort = redis.port
        let wrong = "not-the-\(password)"
        let vigil = try VigilProcess(
            h, name: "redis-wrong-password", extra: ["--redis-tls", "--redis-tls-ca", certificates.caFile],
            environment: ["VIGIL_REDIS_USER": "vigil", "VIGIL_REDIS_PASSWORD": wrong])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertLessThan(exit.seconds, 8, "a refusal does not wait for the 10 s bound")
        XCTAssertTrue(vigil.log.contains("refused the credentials of user vigil"), vigil.log.suffix(2000).description)
        XCTAssertFalse(vigil.log.contains(wrong), "the password shows in the log")
        XCTAssertFalse(vigil.log.contains("pipeline started"))
    }

    func testACertificateRefusedStopsServeAtOnceNamingTheReason() throws {
        let certificates = try RedisTestCertificates.make()
        defer { certificates.remove() }
        let other = try RedisTestCertificates.make()
        defer { other.remove() }
        let redis = try RedisServerProcess.start(tls: certificates.serverTLS())
        defer { redis.stop() }
        let h = try Harness(partitions: 1)
        h.config.redisPort = redis.port
        let vigil = try VigilProcess(h, name: "redis-wrong-ca", extra: ["--redis-tls", "--redis-tls-ca", other.caFile])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertLessThan(exit.seconds, 8, "a refused certificate does not wait for the 10 s bound")
        XCTAssertTrue(vigil.log.contains("the server's certificate was refused"), vigil.log.suffix(2000).description)
        XCTAssertTrue(vigil.log.contains(other.caFile), vigil.log.suffix(2000).description)
        XCTAssertFalse(vigil.log.contains("pipeline started"))
    }

    func testUnusableSettingsAreRefusedBeforeAnyConnection() throws {
        let h = try Harness(partitions: 1)
        let vigil = try VigilProcess(h, name: "redis-bad-settings", extra: [
            "--redis-user", "vigil", "--redis-tls", "--redis-tls-ca", "/nonexistent/ca.pem", "--redis-tls-cert", "/etc/hostname",
        ])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        for expected in [
            "--redis-user vigil needs a password: env VIGIL_REDIS_PASSWORD or --redis-password-file",
            "redis TLS CA file /nonexistent/ca.pem cannot be read",
            "a redis TLS client certificate needs both a certificate file and a key file",
        ] {
            XCTAssertTrue(vigil.log.contains(expected), "\(expected) not in: \(vigil.log.suffix(2000))")
        }
    }
}
