import Foundation
import Kafka
import Redis
import VigilService
import XCTest

/// `vigil serve` refuses, at start and within its bound, settings that cannot work, naming the setting: the real
/// binary against librdkafka's mock cluster and real redis-servers. The checks themselves are in `StartupChecks`.
final class StartupCheckTests: XCTestCase {
    // MARK: Kafka

    /// At-least-once used to run silently with no partitions; now it exits within the default bound (10 s).
    func testUnreachableBrokerStopsVigilWithinTheBound() throws {
        let h = try Harness(partitions: 1)
        h.config.mode = .atLeastOnce
        let vigil = try VigilProcess(h, name: "no-broker", extra: ["--brokers", "127.0.0.1:1"])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running 20 s after start: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertLessThan(exit.seconds, 14, "the bound is 10 s")
        XCTAssertGreaterThan(exit.seconds, 9, "it waited for the bound")
        XCTAssertTrue(vigil.log.contains("--brokers 127.0.0.1:1: no broker answered within 10 s"), vigil.log.suffix(2000).description)
        XCTAssertTrue(vigil.log.contains("Connection refused"), "the client's reason is given: \(vigil.log.suffix(2000))")
        XCTAssertFalse(vigil.log.contains("pipeline started"))
    }

    /// Exactly-once used to exit after 30 s with "init transactions failed: Timed out"; the bound is configurable.
    func testUnreachableBrokerStopsExactlyOnceWithinAConfiguredBound() throws {
        let h = try Harness(partitions: 1)
        let vigil = try VigilProcess(
            h, name: "no-broker-eos", extra: ["--brokers", "127.0.0.1:1"], environment: ["VIGIL_STARTUP_TIMEOUT_MS": "2000"])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertLessThan(exit.seconds, 6)
        XCTAssertTrue(vigil.log.contains("--brokers 127.0.0.1:1: no broker answered within 2 s"), vigil.log.suffix(2000).description)
        XCTAssertFalse(vigil.log.contains("init transactions"))
    }

    func testMissingTopicsAreNamedWithTheirOptionAndNotCreated() throws {
        let h = try Harness(partitions: 1)
        let vigil = try VigilProcess(h, name: "no-topic", extra: ["--topic-dlq", "fraud.dlq.missing", "--topic-late", "late.missing"])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertLessThan(exit.seconds, 8)
        let log = vigil.log
        XCTAssertTrue(log.contains("--topic-dlq fraud.dlq.missing does not exist"), log.suffix(2000).description)
        XCTAssertTrue(log.contains("--topic-late late.missing does not exist"), "every missing topic: \(log.suffix(2000))")
        let topics = try KafkaMetadata.fetch(config: ["bootstrap.servers": h.cluster.bootstrapServers], timeoutMs: 5000).topics
        XCTAssertNil(topics["fraud.dlq.missing"], "the check created the topic")
        XCTAssertNil(topics["late.missing"])
        XCTAssertNotNil(topics[h.config.topics.transactions])
    }

    /// The shadow topic is needed only when a shadow model can be scored: a shadow model file, or models from Redis.
    func testTheShadowTopicIsNeededOnlyWithAShadowModel() throws {
        let h = try Harness(partitions: 1)
        let withShadow = try VigilProcess(
            h, name: "shadow-missing", extra: ["--topic-shadow", "shadow.missing", "--shadow-model", h.config.modelPath])
        let exit = try XCTUnwrap(withShadow.waitForExit(limit: 20), "still running: \(withShadow.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertTrue(withShadow.log.contains("--topic-shadow shadow.missing does not exist"), withShadow.log.suffix(2000).description)

        let fromRedis = try VigilProcess(
            h, name: "shadow-missing-redis", extra: ["--topic-shadow", "shadow.missing", "--model-source", "redis"])
        XCTAssertNotNil(fromRedis.waitForExit(limit: 20))
        XCTAssertTrue(fromRedis.log.contains("--topic-shadow shadow.missing does not exist"), fromRedis.log.suffix(2000).description)

        let withoutShadow = try VigilProcess(h, name: "shadow-unneeded", extra: ["--topic-shadow", "shadow.missing"])
        XCTAssertTrue(withoutShadow.waitForLog("start checks passed"), withoutShadow.log.suffix(2000).description)
        XCTAssertNotNil(withoutShadow.terminate())
    }

    // MARK: Redis

    /// An instance may start during a Redis outage (a failover, a rolling restart): after the bound it says so,
    /// naming `--redis`, joins its group and waits, not ready; it works as soon as Redis answers.
    func testUnreachableRedisIsNamedAndWaitedFor() throws {
        let h = try Harness(partitions: 1)
        h.config.mode = .atLeastOnce
        let later = try RedisServerProcess.start()
        later.stop()
        let address = "\(later.host):\(later.port)"
        let vigil = try VigilProcess(
            h, name: "no-redis", extra: ["--redis", address], environment: ["VIGIL_STARTUP_TIMEOUT_MS": "3000"])
        let message = "--redis \(address): Redis did not answer within 3 s"
        XCTAssertTrue(vigil.waitForLog(message, timeout: 20), vigil.log.suffix(2000).description)
        XCTAssertGreaterThan(Date().timeIntervalSince(vigil.startedAt), 2.5, "Redis was asked again until the bound")
        XCTAssertTrue(vigil.log.contains("consumption waits for Redis"), vigil.log.suffix(2000).description)
        XCTAssertTrue(vigil.waitForLog("partitions assigned"), "it joined its group: \(vigil.log.suffix(2000))")
        let port = try XCTUnwrap(httpPort(vigil), vigil.log.suffix(2000).description)
        let ready = try RawClient.exchange(port: port, "GET /readyz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(ready.statusLine, "HTTP/1.1 503 Service Unavailable")
        XCTAssertTrue(ready.bodyText.contains("redis unreachable"), ready.bodyText)
        try h.publish(traffic(count: 200, seed: 64))
        try later.restart(keepData: false)
        defer { later.stop() }
        XCTAssertTrue(waitForApplied(later, h, 200), vigil.log.suffix(3000).description)
        XCTAssertTrue(vigil.waitForLog("its maxmemory-policy is checked"), vigil.log.suffix(2000).description)
        XCTAssertTrue(vigil.process.isRunning)
        XCTAssertNotNil(vigil.terminate())
    }

    /// A Redis that did not answer at start and turns out to evict stops Vigil when it answers, gracefully.
    func testEvictingRedisThatAnswersLateStopsVigil() throws {
        let h = try Harness(partitions: 1)
        h.config.mode = .atLeastOnce
        let lru = try RedisServerProcess.start(extraArguments: ["--maxmemory-policy", "allkeys-lru"])
        lru.stop()
        let vigil = try VigilProcess(
            h, name: "late-evicting", extra: ["--redis", "\(lru.host):\(lru.port)"],
            environment: ["VIGIL_STARTUP_TIMEOUT_MS": "1000"])
        XCTAssertTrue(vigil.waitForLog("partitions assigned", timeout: 30), vigil.log.suffix(2000).description)
        try lru.restart(keepData: false)
        defer { lru.stop() }
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 60), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        let log = vigil.log
        XCTAssertTrue(log.contains("Vigil stops:"), log.suffix(2000).description)
        XCTAssertTrue(log.contains("has maxmemory-policy allkeys-lru"), log.suffix(2000).description)
        XCTAssertTrue(log.contains("pipeline stopped"), "a graceful stop: \(log.suffix(2000))")
    }

    func httpPort(_ vigil: VigilProcess) -> Int? {
        guard vigil.waitForLog("http.port=", timeout: 15), let range = vigil.log.range(of: "http.port=") else { return nil }
        return Int(vigil.log[range.upperBound...].prefix { $0.isNumber })
    }

    /// CONFIG disabled, as managed Redis services do: the policy is read from INFO instead.
    func testEvictionPolicyIsReadFromInfoWhenConfigIsDisabled() throws {
        let server = try RedisServerProcess.start(extraArguments: ["--rename-command", "CONFIG", "", "--maxmemory-policy", "volatile-lru"])
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port)
        XCTAssertNotNil(try connection.send("CONFIG", "GET", "maxmemory-policy").errorMessage, "CONFIG is disabled")
        let policy = StartupChecks.evictionPolicy { (parts) throws(RedisError) -> RedisReply in
            try connection.send(RedisCommand(parts))
        }
        XCTAssertEqual(policy, .known("volatile-lru", from: "INFO memory"))
    }

    func testEvictionPolicyAnswersAndWhatTheyMean() {
        func answering(_ replies: [String: RedisReply]) -> StartupChecks.EvictionPolicy {
            StartupChecks.evictionPolicy { (parts) throws(RedisError) -> RedisReply in
                guard let reply = replies[parts[0]] else { throw RedisError(kind: .io, message: "connection lost") }
                return reply
            }
        }
        let configSays = RedisReply.array([.bulk(Array("maxmemory-policy".utf8)), .bulk(Array("noeviction".utf8))])
        XCTAssertEqual(answering(["CONFIG": configSays]), .known("noeviction", from: "CONFIG GET"))
        let info = RedisReply.bulk(Array("# Memory\r\nused_memory:1000\r\nmaxmemory_policy:allkeys-lfu\r\n".utf8))
        XCTAssertEqual(answering(["CONFIG": .error("ERR unknown command 'CONFIG'"), "INFO": info]), .known("allkeys-lfu", from: "INFO memory"))
        guard case .unknown(let why) = answering(["CONFIG": .error("NOPERM"), "INFO": .error("NOPERM")]) else {
            return XCTFail("neither answered")
        }
        XCTAssertTrue(why.contains("CONFIG GET") && why.contains("INFO memory"), why)
        guard case .unknown = answering([:]) else { return XCTFail("both failed") }

        XCTAssertEqual(StartupChecks.evictionFindings(.known("noeviction", from: "CONFIG GET"), allowEvicting: false, address: "r:1"), [])
        for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"] {
            let refused = StartupChecks.evictionFindings(.known(policy, from: "CONFIG GET"), allowEvicting: false, address: "r:1")
            guard case .problem(let text) = refused.first, refused.count == 1 else { return XCTFail("\(policy): \(refused)") }
            XCTAssertTrue(text.contains("maxmemory-policy \(policy)") && text.contains("--allow-evicting-redis"), text)
            let allowed = StartupChecks.evictionFindings(.known(policy, from: "CONFIG GET"), allowEvicting: true, address: "r:1")
            guard case .warning = allowed.first, allowed.count == 1 else { return XCTFail("\(policy) allowed: \(allowed)") }
        }
        let unknown = StartupChecks.evictionFindings(.unknown("CONFIG GET failed"), allowEvicting: false, address: "r:1")
        guard case .warning(let text) = unknown.first, unknown.count == 1 else { return XCTFail("\(unknown)") }
        XCTAssertTrue(text.contains("noeviction"), text)
    }

    func testRequiredTopicsAndWhatTheClusterSays() {
        var config = VigilConfig()
        XCTAssertEqual(StartupChecks.requiredTopics(config).map(\.option), [
            "--topic-transactions", "--topic-decisions", "--topic-alerts", "--topic-features", "--topic-late", "--topic-dlq",
        ])
        config.shadowModelPath = "candidate.json"
        XCTAssertEqual(StartupChecks.requiredTopics(config).last?.name, "fraud.shadow")
        config.shadowModelPath = nil
        config.modelSource = .redis
        XCTAssertEqual(StartupChecks.requiredTopics(config).last?.option, "--topic-shadow")

        let present = KafkaMetadata.Topic(partitions: 3, error: KafkaError.Code.noError, errorText: "Success")
        let denied = KafkaMetadata.Topic(partitions: 0, error: KafkaError.Code.topicAuthorizationFailed, errorText: "Broker: Topic authorization failed")
        let gone = KafkaMetadata.Topic(partitions: 0, error: KafkaError.Code.unknownTopicOrPartition, errorText: "Broker: Unknown topic or partition")
        let findings = StartupChecks.topicFindings(
            [("--topic-a", "a"), ("--topic-b", "b"), ("--topic-c", "c"), ("--topic-d", "d")],
            in: ["a": present, "b": denied, "c": gone])
        XCTAssertEqual(findings, [
            .problem("--topic-b b: Broker: Topic authorization failed"),
            .problem("--topic-c c does not exist (Vigil does not create topics)"),
            .problem("--topic-d d does not exist (Vigil does not create topics)"),
        ])
    }

    // MARK: Configuration

    func testBadEnvironmentValuesStopVigilNamingThem() throws {
        let h = try Harness(partitions: 1)
        let vigil = try VigilProcess(h, name: "bad-env", environment: [
            "VIGIL_BATCH_SIZE": "abc", "VIGIL_LATENESS_MS": "1e3", "VIGIL_SERIAL_BATCHES": "yes", "VIGIL_READY_MAX_LAG": "",
        ])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        let log = vigil.log
        for line in ["VIGIL_BATCH_SIZE='abc' is not an integer", "VIGIL_LATENESS_MS='1e3' is not an integer",
                     "VIGIL_SERIAL_BATCHES='yes' must be 1 or true"] {
            XCTAssertTrue(log.contains(line), "\(line) in \(log.suffix(2000))")
        }
        XCTAssertFalse(log.contains("VIGIL_READY_MAX_LAG"), "an empty variable is unset")
    }

    /// A flag's variable set to on (`VIGIL_SERIAL_BATCHES=1`) used to stop ArgumentParser ("Boolean flags declared
    /// with an initial value of true"); the flags now have `--no-` forms, and on from the environment works.
    func testBooleanEnvironmentVariablesAreHonoured() throws {
        let h = try Harness(partitions: 1)
        h.config.mode = .atLeastOnce
        let vigil = try VigilProcess(h, name: "env-flags", environment: [
            "VIGIL_SERIAL_BATCHES": "1", "VIGIL_TRANSACTIONAL_OFFSETS_ONLY": "true", "VIGIL_ALLOW_EVICTING_REDIS": "0",
        ])
        try h.publish(traffic(count: 200, seed: 63))
        XCTAssertTrue(h.waitForApplied(200), vigil.log.suffix(2000).description)
        XCTAssertNotNil(vigil.terminate())
        XCTAssertFalse(vigil.log.contains("Validation failed"), vigil.log.suffix(2000).description)
    }

    /// Values of 64 bits used to trap in the configuration check ("arithmetic overflow").
    func testHugeLatenessBoundsAreRefusedWithoutATrap() throws {
        let h = try Harness(partitions: 1)
        let cases: [([String], String)] = [
            (["--lateness-ms", "9223372036854775807"], "lateness must be 0-604800000 ms (7 days), got 9223372036854775807"),
            (["--out-of-orderness-ms", "9223372036854775807"], "out-of-orderness must be 0-604800000 ms (7 days), got 9223372036854775807"),
            (["--out-of-orderness-ms", "-9223372036854775808", "--lateness-ms", "-1"], "out-of-orderness must be 0-604800000 ms (7 days), got -9223372036854775808"),
            (["--out-of-orderness-ms", "4611686018427387904", "--lateness-ms", "4611686018427387904"], "lateness must be 0-604800000 ms (7 days), got 4611686018427387904"),
        ]
        for (arguments, message) in cases {
            let vigil = try VigilProcess(h, name: "huge", extra: arguments)
            let exit = try XCTUnwrap(vigil.waitForExit(limit: 20), "still running: \(vigil.log.suffix(2000))")
            XCTAssertEqual(exit.status, 64, "a configuration error, not a trap: \(arguments) \(vigil.log.suffix(1500))")
            XCTAssertTrue(vigil.log.contains(message), "\(arguments): \(vigil.log.suffix(1500))")
            XCTAssertFalse(vigil.log.contains("overflow"), "\(arguments)")
        }
    }

    func testHTTPPortMinusOneTurnsTheEndpointOff() throws {
        let h = try Harness(partitions: 1)
        h.config.mode = .atLeastOnce
        let vigil = try VigilProcess(h, name: "no-http", extra: ["--http-port", "-1"])
        try h.publish(traffic(count: 200, seed: 62))
        XCTAssertTrue(h.waitForApplied(200), vigil.log.suffix(2000).description)
        XCTAssertTrue(vigil.process.isRunning)
        XCTAssertFalse(vigil.log.contains("health and metrics endpoint listening"), vigil.log.suffix(2000).description)
        XCTAssertNotNil(vigil.terminate())

        let refused = try VigilProcess(h, name: "bad-http", extra: ["--http-port", "-2"])
        XCTAssertEqual(refused.waitForExit(limit: 20)?.status, 64)
        XCTAssertTrue(refused.log.contains("--http-port must be -1 (off), 0 (any free port) or 1-65535, got -2"), refused.log)
    }

    /// Applied records in a Redis other than the harness's.
    func waitForApplied(_ redis: RedisServerProcess, _ h: Harness, _ count: Int) -> Bool {
        let store = StateStore(host: redis.host, port: redis.port, prefix: h.config.redisPrefix)
        let tp = TopicPartition(topic: h.config.topics.transactions, partition: 0)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let applied = (try? store.loadPartition(tp))?.applied, applied + 1 >= count { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }
}
