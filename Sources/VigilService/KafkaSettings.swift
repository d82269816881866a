import Foundation
import Kafka
import Logging

/// The librdkafka properties an operator gives Vigil's Kafka clients, from properties files (`--kafka-config`), the
/// environment (`VIGIL_KAFKA_*`) and the command line (`--kafka-property`), for both clients or for the consumer or
/// the producer alone. Read once at start; every problem is collected, none quotes a value. See
/// docs/kafka-settings.md.
///
/// Precedence: files (in the order given) < environment < command line; within one source, a setting for one client
/// wins over a setting for both. Vigil's own properties (`bootstrap.servers`, `group.id`, `transactional.id`, ...)
/// are set first, so any of these overrides them.
public struct KafkaSettings: Sendable {
    /// Which of Vigil's clients a setting is for: a `consumer.` or `producer.` key prefix, or none for both.
    public enum Scope: String, Sendable, CaseIterable {
        case both, consumer, producer
    }

    /// Where a setting came from, as errors and the start log name it.
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        case file(path: String, line: Int)
        case environment(variable: String)
        case commandLine

        public var description: String {
            switch self {
            case .file(let path, let line): "\(path) line \(line)"
            case .environment(let variable): variable
            case .commandLine: "--kafka-property"
            }
        }

        /// Lower gives way to higher.
        var precedence: Int {
            switch self {
            case .file: 0
            case .environment: 1
            case .commandLine: 2
            }
        }
    }

    /// One librdkafka property for one or both clients.
    public struct Setting: Sendable, Equatable {
        /// The librdkafka property name, without a scope prefix.
        public var name: String
        public var value: String
        public var scope: Scope
        public var source: Source

        public init(name: String, value: String, scope: Scope, source: Source) {
            self.name = name
            self.value = value
            self.scope = scope
            self.source = source
        }

        /// `name=value (source)`, with a secret value redacted.
        public var described: String { "\(name)=\(KafkaProperty.shown(name, value)) (\(source))" }
    }

    /// Every setting read, in the order they apply (each overrides the ones before it).
    public private(set) var settings: [Setting] = []
    /// What could not be used, one line each, naming the source; never a value.
    public private(set) var problems: [String] = []

    public init() {}

    /// `settings` in any order; they are put in the order they apply. Each is checked with librdkafka (an unknown
    /// property or a value it refuses is a problem naming the source) unless `checkWithLibrdkafka` is false.
    public init(_ settings: [Setting], problems: [String] = [], checkWithLibrdkafka: Bool = true) {
        self.settings = settings.enumerated().sorted { a, b in
            let ka = (a.element.source.precedence, a.element.scope == .both ? 0 : 1, a.offset)
            let kb = (b.element.source.precedence, b.element.scope == .both ? 0 : 1, b.offset)
            return ka < kb
        }.map(\.element)
        self.problems = problems
        guard checkWithLibrdkafka else { return }
        for setting in self.settings {
            guard let objection = KafkaProperty.problem(name: setting.name, value: setting.value) else { continue }
            var line = "\(setting.source): \(objection)"
            if objection.contains("No such configuration property") {
                line += " (a key for one client only starts with consumer. or producer.; see docs/kafka-settings.md)"
            }
            self.problems.append(line)
        }
    }

    /// Reads the properties files, the `VIGIL_KAFKA_*` variables of `environment` and the `--kafka-property`
    /// arguments.
    public init(files: [String], environment: [String: String], commandLine: [String]) {
        var settings: [Setting] = []
        var problems: [String] = []
        for path in files {
            let read = Self.readPropertiesFile(path)
            settings += read.settings
            problems += read.problems
        }
        let fromEnvironment = Self.parseEnvironment(environment)
        settings += fromEnvironment.settings
        problems += fromEnvironment.problems
        let fromCommandLine = Self.parseCommandLine(commandLine)
        settings += fromCommandLine.settings
        problems += fromCommandLine.problems
        self.init(settings, problems: problems)
    }

    /// The properties for one client (`.both` gives those set for both), after precedence.
    public func properties(for client: Scope) -> [String: String] {
        var properties: [String: String] = [:]
        for setting in settings where setting.scope == .both || setting.scope == client {
            properties[setting.name] = setting.value
        }
        return properties
    }

    public var consumer: [String: String] { properties(for: .consumer) }
    public var producer: [String: String] { properties(for: .producer) }

    /// The settings in effect for `client` (the ones that won), by name, each as `name=value (source)` with
    /// secrets redacted.
    public func described(for client: Scope) -> String {
        var winners: [String: Setting] = [:]
        for setting in settings where setting.scope == .both || setting.scope == client { winners[setting.name] = setting }
        return winners.keys.sorted().map { winners[$0]!.described }.joined(separator: ", ")
    }

    /// Said once at start, without any value: a secret given on the command line (visible to every user of the
    /// machine in `ps` and `/proc/<pid>/cmdline`), and librdkafka's own configuration dump enabled while secrets
    /// are set (its log lines go to stderr past Vigil; see docs/kafka-settings.md).
    public var warnings: [String] {
        var warnings: [String] = []
        var warned: Set<String> = []
        for setting in settings where setting.source == .commandLine && KafkaProperty.isSecret(setting.name) {
            let key = setting.scope == .both ? setting.name : "\(setting.scope.rawValue).\(setting.name)"
            guard warned.insert(key).inserted else { continue }
            warnings.append(
                "the secret librdkafka property \(key) is given with --kafka-property: a command line is visible to "
                    + "every user of the machine (ps, /proc/<pid>/cmdline); give it in a --kafka-config file or as "
                    + "\(Self.variableName(setting.name, scope: setting.scope))_FILE instead")
        }
        if settings.contains(where: { KafkaProperty.isSecret($0.name) }) {
            for client in [Scope.consumer, .producer] {
                guard let debug = properties(for: client)["debug"] else { continue }
                let contexts = Set(debug.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
                guard !contexts.isDisjoint(with: ["conf", "all"]) else { continue }
                warnings.append(
                    "librdkafka debug=\(debug) on the \(client.rawValue) dumps its configuration into its own log "
                        + "lines, which go to stderr without passing through Vigil; librdkafka redacts the secrets it "
                        + "knows of, but do not use debug=conf or debug=all where logs are kept")
            }
        }
        return warnings
    }

    /// Logs the warnings, then which settings each client got (secrets redacted), at start.
    public func log(to logger: Logger) {
        for warning in warnings { logger.warning("kafka settings", metadata: ["warning": "\(warning)"]) }
        guard !settings.isEmpty else { return }
        logger.info("kafka settings", metadata: [
            "kafka.consumer": "\(described(for: .consumer))", "kafka.producer": "\(described(for: .producer))",
        ])
    }
}
