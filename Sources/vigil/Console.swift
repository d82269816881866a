import ArgumentParser
import Foundation
import Kafka
import Logging
import NIOCore
import VigilConsole
import VigilHTTP
import VigilCore
import VigilService

/// `vigil console`: the fraud analysts' web page (docs/console.md).
struct Console: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the fraud analysts' web page: the live alert queue, and fraud/legitimate buttons that label on fraud.labels.",
        subcommands: [ConsoleServe.self, ConsoleSandbox.self],
        defaultSubcommand: ConsoleServe.self
    )
}

struct ConsoleServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the console (the default of `vigil console`). The login secret comes from VIGIL_CONSOLE_TOKEN, "
            + "--token-file or --users-file, never from the command line."
    )

    @Option(help: "Kafka bootstrap servers (env VIGIL_BROKERS).")
    var brokers = Environment.string("VIGIL_BROKERS", "127.0.0.1:9092")

    @Option(help: "Address to listen on (env VIGIL_CONSOLE_HOST). Loopback by default: put a TLS proxy in front to serve it further.")
    var host = Environment.string("VIGIL_CONSOLE_HOST", "127.0.0.1")

    @Option(help: "Port to listen on; 0 picks a free one (env VIGIL_CONSOLE_PORT).")
    var port = Environment.int("VIGIL_CONSOLE_PORT", 8480)

    @Option(help: "File holding the team's shared login token (env VIGIL_CONSOLE_TOKEN_FILE; or the token itself in VIGIL_CONSOLE_TOKEN).")
    var tokenFile = Environment.optionalString("VIGIL_CONSOLE_TOKEN_FILE")

    @Option(help: "Users file: one name:sha256:<hex SHA-256 of the password> per line (env VIGIL_CONSOLE_USERS_FILE).")
    var usersFile = Environment.optionalString("VIGIL_CONSOLE_USERS_FILE")

    @Option(help: "Alerts topic (env VIGIL_TOPIC_ALERTS).")
    var topicAlerts = Environment.string("VIGIL_TOPIC_ALERTS", "fraud.alerts")

    @Option(help: "Feature records topic (env VIGIL_TOPIC_FEATURES).")
    var topicFeatures = Environment.string("VIGIL_TOPIC_FEATURES", "fraud.features")

    @Option(help: "Labels topic, read and written (env VIGIL_TOPIC_LABELS).")
    var topicLabels = Environment.string("VIGIL_TOPIC_LABELS", "fraud.labels")

    @Option(help: "Alerts kept in the queue, newest first (env VIGIL_CONSOLE_MAX_ALERTS).")
    var maxAlerts = Environment.int("VIGIL_CONSOLE_MAX_ALERTS", 1000)

    @Option(help: "Recent transactions shown per card.")
    var transactionsPerCard = 10

    @Option(help: "At start, read back this many of the newest feature records per partition (env VIGIL_CONSOLE_FEATURES_LOOKBACK).")
    var featuresLookback = Environment.int("VIGIL_CONSOLE_FEATURES_LOOKBACK", 20_000)

    @Option(help: "At start, read back this many of the newest labels per partition, so worked alerts stay worked (env VIGIL_CONSOLE_LABELS_LOOKBACK).")
    var labelsLookback = Environment.int("VIGIL_CONSOLE_LABELS_LOOKBACK", 100_000)

    @Option(help: "How long a label click waits for Kafka's acknowledgement before telling the analyst (ms, 1000-120000).")
    var labelTimeoutMs = Environment.int("VIGIL_CONSOLE_LABEL_TIMEOUT_MS", 10_000)

    @Option(name: .customLong("kafka-property"), help: "Extra librdkafka property KEY=VALUE, repeatable (not for secrets: ps shows them; docs/kafka-settings.md).")
    var kafkaProperties: [String] = []

    @Option(name: .customLong("kafka-config"), help: "librdkafka properties file, repeatable (env VIGIL_KAFKA_CONFIG).")
    var kafkaConfig: [String] = Environment.optionalString(KafkaSettings.configVariable).map { [$0] } ?? []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env VIGIL_LOG_LEVEL).")
    var logLevel = Environment.string("VIGIL_LOG_LEVEL", "info")

    @Option(help: "Log format: text or json, one object per line (env VIGIL_LOG_FORMAT).")
    var logFormat = Environment.string("VIGIL_LOG_FORMAT", "text")

    func credentials() throws -> AnalystCredentials {
        let token = ProcessInfo.processInfo.environment["VIGIL_CONSOLE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let sources = [token != nil, tokenFile != nil, usersFile != nil].filter { $0 }.count
        guard sources == 1 else {
            throw ValidationError(sources == 0
                ? "the console needs a login: set VIGIL_CONSOLE_TOKEN, or give --token-file or --users-file"
                : "give only one of VIGIL_CONSOLE_TOKEN, --token-file and --users-file")
        }
        do {
            if let token { return try AnalystCredentials.sharedToken(token) }
            if let tokenFile { return try AnalystCredentials.sharedToken(try String(contentsOfFile: tokenFile, encoding: .utf8)) }
            return try AnalystCredentials.usersFile(try String(contentsOfFile: usersFile!, encoding: .utf8))
        } catch let problem as AnalystCredentials.Problem {
            throw ValidationError("\(problem)")
        } catch {
            throw ValidationError("cannot read \(tokenFile ?? usersFile ?? "the login file"): \(error.localizedDescription)")
        }
    }

    func run() async throws {
        var problems: [String] = Environment.problems
        if !(0...65535).contains(port) { problems.append("--port must be 0-65535") }
        if !(1...100_000).contains(maxAlerts) { problems.append("--max-alerts must be 1-100000") }
        if !(1...100).contains(transactionsPerCard) { problems.append("--transactions-per-card must be 1-100") }
        if !(0...1_000_000).contains(featuresLookback) || !(0...10_000_000).contains(labelsLookback) {
            problems.append("--features-lookback must be 0-1000000 and --labels-lookback 0-10000000")
        }
        if !(1000...120_000).contains(labelTimeoutMs) { problems.append("--label-timeout-ms must be 1000-120000") }
        if Logger.Level(rawValue: logLevel) == nil { problems.append("--log-level '\(logLevel)' is not a level") }
        if LogFormat(rawValue: logFormat) == nil { problems.append("--log-format '\(logFormat)' is not text or json") }
        let settings = KafkaSettings(files: kafkaConfig, environment: Environment.variables, commandLine: kafkaProperties)
        problems += settings.problems
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }

        var config = ConsoleConfig(credentials: try credentials())
        config.host = host
        config.port = port
        config.consumerKafka = settings.consumer
        config.consumerKafka["bootstrap.servers"] = settings.consumer["bootstrap.servers"] ?? brokers
        config.producerKafka = settings.producer
        config.producerKafka["bootstrap.servers"] = settings.producer["bootstrap.servers"] ?? brokers
        config.topics = ConsoleTopics(alerts: topicAlerts, features: topicFeatures, labels: topicLabels)
        config.limits = AlertQueue.Limits(alerts: maxAlerts, transactionsPerCard: transactionsPerCard, recentRecords: max(1000, featuresLookback))
        config.lookback = ConsoleFeed.Lookback(alerts: Int64(maxAlerts), features: Int64(featuresLookback), labels: Int64(labelsLookback))
        config.labelTimeoutMs = Int64(labelTimeoutMs)

        let logger = LogSetup.bootstrap("vigil.console", level: Logger.Level(rawValue: logLevel) ?? .info, format: LogFormat(rawValue: logFormat) ?? .text)
        do {
            try await ConsoleApp.run(config, logger: logger) { host, port in
                FileHandle.standardOutput.write(Data("vigil console: listening on http://\(host):\(port)/\n".utf8))
            }
        } catch let error as IOError {
            throw ValidationError("cannot listen on \(host):\(port): \(OperationsServer.reason(error))")
        }
    }
}
