import Dispatch
import Foundation
import Kafka
import Logging
import Redis
import Synchronization
import VigilCore

/// What `vigil serve` checks before it builds the pipeline, so that a setting that cannot work stops Vigil at once
/// with a message naming it, instead of failing later (exactly-once: `init_transactions` timing out after 30 s) or
/// running without saying so (at-least-once: no partitions, ever). Kafka and Redis are checked at the same time,
/// each waiting at most `config.startupTimeoutMs`. docs/guarantees.md ("At start") lists every check.
///
/// A Redis that does not answer in time does not stop Vigil: an instance may start during a Redis outage (a
/// failover, a rolling restart), join its group and wait, paused and not ready, as a running one does. Its
/// `maxmemory-policy` is then checked when Redis answers (`RedisPolicyWatch`).
public struct StartupChecks: Sendable {
    public let config: VigilConfig
    let logger: Logger

    public init(config: VigilConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// What the checks found, when nothing stops Vigil.
    public struct Outcome: Sendable, Equatable {
        /// Redis answered within the bound, so its `maxmemory-policy` was checked. If not, a `RedisPolicyWatch`
        /// checks it when Redis answers.
        public var redisAnswered: Bool
    }

    /// Runs every check on threads of its own (they block), then returns, or throws a `StartupError` listing every
    /// problem found.
    public func run() async throws -> Outcome {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
            DispatchQueue.global().async {
                do {
                    continuation.resume(returning: try runBlocking())
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// `run()` on the calling thread, which it blocks for up to `config.startupTimeoutMs` (plus a moment).
    public func runBlocking() throws(StartupError) -> Outcome {
        Self.logNumberFormatter(logger)
        let findings = Mutex<(kafka: [Finding], redis: [Finding], redisAnswered: Bool)>(([], [], false))
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            let result = checkKafka()
            findings.withLock { $0.kafka = result }
        }
        DispatchQueue.global().async(group: group) {
            let (result, answered) = checkRedis()
            findings.withLock {
                $0.redis = result
                $0.redisAnswered = answered
            }
        }
        group.wait()
        let (all, redisAnswered) = findings.withLock { ($0.kafka + $0.redis, $0.redisAnswered) }
        try report(all)
        logger.info("start checks passed", metadata: [
            "brokers": "\(config.brokers)", "redis": "\(redisAddress)",
            "topics": "\(Self.requiredTopics(config).map(\.name).joined(separator: ","))",
        ])
        return Outcome(redisAnswered: redisAnswered)
    }

    /// Logs the warnings; throws the problems, if any.
    func report(_ findings: [Finding], heading: String = StartupError.cannotStart) throws(StartupError) {
        var problems: [String] = []
        for finding in findings {
            switch finding {
            case .problem(let text): problems.append(text)
            case .warning(let text): logger.warning("start check warning", metadata: ["warning": "\(text)"])
            }
        }
        if !problems.isEmpty { throw StartupError(problems: problems, heading: heading) }
    }

    /// What one check found: a problem stops Vigil, a warning is logged.
    public enum Finding: Equatable, Sendable {
        case problem(String)
        case warning(String)
    }

    var redisAddress: String { config.redisEndpoint.address }

    var bound: String { Self.seconds(config.startupTimeoutMs) }

    static func seconds(_ ms: Int) -> String {
        ms % 1000 == 0 ? "\(ms / 1000) s" : String(format: "%.1f s", Double(ms) / 1000)
    }

    /// Logs once if the number formatter fell back to `description` (same text, slower).
    public static func logNumberFormatter(_ logger: Logger) {
        if let disagreement = ShortestDouble.selfCheck().disagreement {
            logger.warning("number formatter self-check failed: writing doubles through Double.description (same text, slower)", metadata: [
                "disagreement": "\(disagreement)",
            ])
        }
    }

    // MARK: Kafka

    /// Every topic Vigil needs, with the option that names it: the input, each output, and the shadow topic when a
    /// shadow model is set or models come from Redis (where a shadow can be published at any time).
    public static func requiredTopics(_ config: VigilConfig) -> [(option: String, name: String)] {
        let t = config.topics
        var topics = [
            ("--topic-transactions", t.transactions), ("--topic-decisions", t.decisions), ("--topic-alerts", t.alerts),
            ("--topic-features", t.features), ("--topic-late", t.late), ("--topic-dlq", t.dlq),
        ]
        if config.shadowModelPath != nil || config.modelSource == .redis { topics.append(("--topic-shadow", t.shadow)) }
        return topics.map { (option: $0.0, name: $0.1) }
    }

    /// A broker answers a metadata request within the bound, and every required topic is in its answer.
    func checkKafka() -> [Finding] {
        var properties = ["bootstrap.servers": config.brokers, "client.id": config.clientId]
        for (k, v) in config.consumerKafkaProperties { properties[k] = v }
        let metadata: KafkaMetadata
        do {
            metadata = try KafkaMetadata.fetch(config: properties, timeoutMs: config.startupTimeoutMs)
        } catch let error where error.code == KafkaError.Code.invalidArgument {
            return [.problem("\(error.message)")]
        } catch {
            return [.problem("--brokers \(config.brokers): \(error.message)")]
        }
        return Self.topicFindings(Self.requiredTopics(config), in: metadata.topics)
    }

    /// A problem for each required topic missing from the cluster's answer (or that this client may not describe), a
    /// warning for one the cluster reports another error for.
    public static func topicFindings(_ required: [(option: String, name: String)], in topics: [String: KafkaMetadata.Topic]) -> [Finding] {
        var findings: [Finding] = []
        for (option, name) in required {
            guard let topic = topics[name], topic.error != KafkaError.Code.unknownTopicOrPartition else {
                findings.append(.problem("\(option) \(name) does not exist (Vigil does not create topics)"))
                continue
            }
            if topic.error == KafkaError.Code.topicAuthorizationFailed {
                findings.append(.problem("\(option) \(name): \(topic.errorText)"))
            } else if topic.error != KafkaError.Code.noError {
                findings.append(.warning("\(option) \(name): the cluster reports \(topic.errorText)"))
            }
        }
        return findings
    }

    // MARK: Redis

    /// Redis answers PING within the bound, and its `maxmemory-policy` does not evict (or eviction is allowed). A
    /// Redis that does not answer in time is a warning (and `answered` is false); one that answers something other
    /// than PONG is a problem.
    func checkRedis() -> (findings: [Finding], answered: Bool) {
        switch connectRedis(deadline: Date().addingTimeInterval(Double(config.startupTimeoutMs) / 1000)) {
        case .success(let connection):
            defer { connection.close() }
            return (policyFindings(connection), true)
        case .failure(.refused(let text)):
            return ([.problem(text)], false)
        case .failure(.noAnswer(let why)):
            return ([.warning(
                "--redis \(redisAddress): Redis did not answer within \(bound) (\(why)); starting anyway: consumption "
                    + "waits for Redis (paused, /readyz not ready), and its maxmemory-policy is checked when it answers")],
                false)
        }
    }

    /// Once Redis answers: what its eviction policy means. Nil while Redis still does not answer (one attempt,
    /// bounded by a second). For `RedisPolicyWatch`.
    func policyFindingsOnceRedisAnswers() -> [Finding]? {
        switch connectRedis(deadline: Date()) {
        case .success(let connection):
            defer { connection.close() }
            return policyFindings(connection)
        case .failure(.refused(let text)):
            return [.problem(text)]
        case .failure(.noAnswer):
            return nil
        }
    }

    func policyFindings(_ connection: any RedisClient) -> [Finding] {
        // A cluster: every master's policy counts (each holds some partitions' cards).
        if let cluster = connection as? RedisClusterClient {
            // Each command once to every master; each master's answers judged by themselves.
            var asked: [[String]: Result<[(master: RedisAddress, reply: RedisReply)], RedisError>] = [:]
            func answers(_ parts: [String]) -> Result<[(master: RedisAddress, reply: RedisReply)], RedisError> {
                if let known = asked[parts] { return known }
                let result = Result { () throws(RedisError) in try cluster.sendToEachMaster(RedisCommand(parts)) }
                asked[parts] = result
                return result
            }
            guard case .success(let first) = answers(["CONFIG", "GET", "maxmemory-policy"]) else {
                return Self.evictionFindings(
                    Self.evictionPolicy { (parts) throws(RedisError) -> RedisReply in try cluster.send(RedisCommand(parts)) },
                    allowEvicting: config.allowEvictingRedis, address: redisAddress)
            }
            return first.map(\.master).flatMap { master -> [Finding] in
                let answer = Self.evictionPolicy { (parts) throws(RedisError) -> RedisReply in
                    let replies = try answers(parts).get()
                    guard let reply = replies.first(where: { $0.master == master })?.reply else {
                        throw RedisError(kind: .io, message: "cluster node \(master) left the slot map")
                    }
                    return reply
                }
                return Self.evictionFindings(
                    answer, allowEvicting: config.allowEvictingRedis, address: "\(redisAddress) (cluster node \(master))")
            }
        }
        let answer = Self.evictionPolicy { (parts) throws(RedisError) -> RedisReply in
            try connection.send(RedisCommand(parts))
        }
        return Self.evictionFindings(answer, allowEvicting: config.allowEvictingRedis, address: redisAddress)
    }

    enum RedisProblem: Error {
        /// Redis answered, but not PONG (e.g. NOAUTH): waiting will not help.
        case refused(String)
        /// No answer (refused, timed out, still loading), with the last reason.
        case noAnswer(String)
    }

    /// Connects and PINGs until Redis answers PONG or the deadline passes (at least one attempt); a Redis that is
    /// still loading its data, or not listening yet, is asked again every 0.2 s.
    func connectRedis(deadline: Date) -> Result<any RedisClient, RedisProblem> {
        var lastError = "no attempt"
        while true {
            let remainingMs = Int(deadline.timeIntervalSinceNow * 1000)
            let timeoutMs = max(1000, min(2000, remainingMs))
            do {
                let c = try config.redisEndpoint.open(connectTimeoutMs: timeoutMs, commandTimeoutMs: timeoutMs)
                let reply = try c.send("PING")
                if reply == .status("PONG") { return .success(c) }
                c.close()
                guard reply.errorCode == "LOADING" else {
                    return .failure(.refused("--redis \(redisAddress): PING answered \(Self.describe(reply))"))
                }
                lastError = Self.describe(reply)
            } catch {
                // Wrong credentials, a Redis that wants some, or TLS settings it refuses: waiting will not help.
                if let e = error as? RedisError, e.kind == .auth || e.kind == .tls {
                    return .failure(.refused("--redis \(redisAddress): \(e.message)"))
                }
                lastError = "\(error)"
            }
            if Date().addingTimeInterval(0.2) >= deadline { break }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return .failure(.noAnswer(lastError))
    }

    static func describe(_ reply: RedisReply) -> String {
        if let message = reply.errorMessage { return "error '\(message)'" }
        return "\(reply)"
    }

    /// What Redis says its `maxmemory-policy` is.
    public enum EvictionPolicy: Equatable, Sendable {
        /// The policy, and the command that said so.
        case known(String, from: String)
        /// Neither `CONFIG GET` nor `INFO memory` said (managed Redis may disable both); why.
        case unknown(String)
    }

    /// Asks `CONFIG GET maxmemory-policy`; if CONFIG is refused (disabled or renamed, as managed Redis services do),
    /// reads the `maxmemory_policy:` line of `INFO memory`.
    public static func evictionPolicy(_ send: ([String]) throws(RedisError) -> RedisReply) -> EvictionPolicy {
        var why: [String] = []
        do {
            let reply = try send(["CONFIG", "GET", "maxmemory-policy"])
            if let items = reply.array, items.count == 2, items[0].string == "maxmemory-policy", let policy = items[1].string {
                return .known(policy, from: "CONFIG GET")
            }
            why.append("CONFIG GET answered \(describe(reply))")
        } catch {
            why.append("CONFIG GET failed: \(error)")
        }
        do {
            let reply = try send(["INFO", "memory"])
            if let info = reply.string,
               let line = info.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("maxmemory_policy:") }) {
                let policy = line.dropFirst("maxmemory_policy:".count).trimmingCharacters(in: .whitespaces)
                if !policy.isEmpty { return .known(policy, from: "INFO memory") }
            }
            why.append(reply.string == nil ? "INFO memory answered \(describe(reply))" : "INFO memory has no maxmemory_policy line")
        } catch {
            why.append("INFO memory failed: \(error)")
        }
        return .unknown(why.joined(separator: "; "))
    }

    /// `noeviction` passes; another policy is a problem unless allowed (then a warning); an unknown one is a warning.
    public static func evictionFindings(_ policy: EvictionPolicy, allowEvicting: Bool, address: String) -> [Finding] {
        switch policy {
        case .known("noeviction", _):
            return []
        case .known(let name, let source):
            let risk = "Redis may evict card keys, and an evicted card silently restarts its features from zero"
            if allowEvicting {
                return [.warning("--redis \(address) has maxmemory-policy \(name) (\(source)): \(risk); starting anyway (--allow-evicting-redis)")]
            }
            return [.problem(
                "--redis \(address) has maxmemory-policy \(name) (\(source)): \(risk). Set maxmemory-policy noeviction "
                    + "(Vigil then pauses with a clear error when Redis is full), or start with --allow-evicting-redis "
                    + "(VIGIL_ALLOW_EVICTING_REDIS=1) to accept it")]
        case .unknown(let why):
            return [.warning(
                "--redis \(address): cannot tell whether Redis may evict keys (\(why)); make sure its maxmemory-policy is noeviction")]
        }
    }
}

/// Why Vigil did not start (or stopped, for a check made later): every problem found, one per line.
public struct StartupError: Error, CustomStringConvertible, Sendable {
    public static let cannotStart = "Vigil cannot start"
    public var problems: [String]
    public var heading = StartupError.cannotStart

    public init(problems: [String], heading: String = StartupError.cannotStart) {
        self.problems = problems
        self.heading = heading
    }

    public var description: String { "\(heading):\n" + problems.map { "  - \($0)" }.joined(separator: "\n") }
}
