import Foundation

/// Reading settings from each source. No problem line quotes a value or a line of a file: either may be a secret.
extension KafkaSettings {
    /// The variable naming a properties file, when `--kafka-config` is not given; not itself a property.
    public static let configVariable = "VIGIL_KAFKA_CONFIG"
    /// Every other variable starting with this sets a property.
    public static let variablePrefix = "VIGIL_KAFKA_"

    /// A key's scope and property name: `consumer.X` and `producer.X` are for that client, any other key for both.
    /// Nil when the prefix names no property (`consumer.`).
    public static func scoped(_ key: String) -> (scope: Scope, name: String)? {
        for scope in [Scope.consumer, .producer] where key.hasPrefix(scope.rawValue + ".") {
            let name = String(key.dropFirst(scope.rawValue.count + 1))
            return name.isEmpty ? nil : (scope, name)
        }
        return (.both, key)
    }

    // MARK: Properties files

    /// Java-style `key=value` lines: `#` or `!` starts a comment line, blank lines are skipped, whitespace around
    /// the key and the value is dropped. No escapes, no line continuations (a line ending in `\` is refused rather
    /// than read differently from Java), and a key may appear once per file.
    public static func parseProperties(_ text: String, path: String) -> (settings: [Setting], problems: [String]) {
        var settings: [Setting] = []
        var problems: [String] = []
        var firstLine: [String: Int] = [:]
        var number = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix("!") { continue }
            let at = "\(path) line \(number)"
            guard let eq = line.firstIndex(of: "=") else {
                problems.append("\(at): expected KEY=VALUE, found no '=' (the line is not shown: it may hold a secret)")
                continue
            }
            if line.hasSuffix("\\") {
                problems.append("\(at): ends in '\\'; line continuations are not supported")
                continue
            }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else {
                problems.append("\(at): the key before '=' is empty")
                continue
            }
            guard let (scope, name) = scoped(key) else {
                problems.append("\(at): '\(key)' names no property after its prefix")
                continue
            }
            if let first = firstLine[key] {
                problems.append("\(at): \(key) is already set on line \(first)")
                continue
            }
            firstLine[key] = number
            settings.append(Setting(name: name, value: value, scope: scope, source: .file(path: path, line: number)))
        }
        return (settings, problems)
    }

    /// `parseProperties` of the file at `path`.
    public static func readPropertiesFile(_ path: String) -> (settings: [Setting], problems: [String]) {
        switch readText(path) {
        case .success(let text): parseProperties(text, path: path)
        case .failure(let reason): ([], ["--kafka-config \(path): \(reason)"])
        }
    }

    /// The file's text, or why it cannot be had.
    static func readText(_ path: String) -> Result<String, ReadFailure> {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return .failure(ReadFailure("does not exist"))
        }
        if isDirectory.boolValue { return .failure(ReadFailure("is a directory")) }
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(ReadFailure("cannot be read (permissions?)"))
        }
        guard let text = String(validating: data, as: UTF8.self) else { return .failure(ReadFailure("is not UTF-8")) }
        return .success(text)
    }

    struct ReadFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: Environment

    /// `VIGIL_KAFKA_<NAME>` sets the property for both clients, `VIGIL_KAFKA_CONSUMER_<NAME>` and
    /// `VIGIL_KAFKA_PRODUCER_<NAME>` for one; `<NAME>` is the property in upper case with `.` written `_` and `_`
    /// written `__` (`SASL_PASSWORD` is `sasl.password`, `LOG__LEVEL` is `log_level`). With `_FILE` appended, the
    /// variable names a file holding the value (a mounted Kubernetes Secret); trailing line breaks are dropped. An
    /// empty variable counts as unset, as every `VIGIL_*` variable does.
    public static func parseEnvironment(_ variables: [String: String]) -> (settings: [Setting], problems: [String]) {
        var settings: [Setting] = []
        var problems: [String] = []
        var seen: [String: String] = [:]  // scoped key -> the variable that set it
        for (variable, value) in variables.sorted(by: { $0.key < $1.key }) {
            guard variable.hasPrefix(variablePrefix), variable != configVariable, !value.isEmpty else { continue }
            var rest = Substring(variable.dropFirst(variablePrefix.count))
            var scope = Scope.both
            if let candidate = [Scope.consumer, .producer].first(where: { rest.hasPrefix($0.rawValue.uppercased() + "_") }) {
                scope = candidate
                rest = rest.dropFirst(candidate.rawValue.count + 1)
            }
            let fromFile = rest.hasSuffix("_FILE")
            if fromFile { rest = rest.dropLast(5) }
            let name = propertyName(rest)
            guard !name.isEmpty else {
                problems.append("\(variable) names no property")
                continue
            }
            let key = scope == .both ? name : "\(scope.rawValue).\(name)"
            if let other = seen[key] {
                problems.append("\(other) and \(variable) both set \(key); set one")
                continue
            }
            seen[key] = variable
            var propertyValue = value
            if fromFile {
                switch readText(value) {
                case .success(let text):
                    propertyValue = String(text.reversed().drop { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }.reversed())
                    if propertyValue.isEmpty {
                        problems.append("\(variable): the file \(value) is empty")
                        continue
                    }
                case .failure(let reason):
                    problems.append("\(variable): the file \(value) \(reason)")
                    continue
                }
            }
            settings.append(Setting(name: name, value: propertyValue, scope: scope, source: .environment(variable: variable)))
        }
        return (settings, problems)
    }

    /// `SASL_PASSWORD` -> `sasl.password`, `LOG__LEVEL` -> `log_level`.
    static func propertyName(_ encoded: Substring) -> String {
        encoded.lowercased().split(separator: "__", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "_", with: ".") }
            .joined(separator: "_")
    }

    /// The variable that sets `name` for `scope` (without `_FILE`).
    public static func variableName(_ name: String, scope: Scope) -> String {
        let encoded = name.uppercased().replacingOccurrences(of: "_", with: "__").replacingOccurrences(of: ".", with: "_")
        return variablePrefix + (scope == .both ? "" : scope.rawValue.uppercased() + "_") + encoded
    }

    // MARK: Command line

    /// `--kafka-property KEY=VALUE` arguments, keys scoped as in a file; a repeated key takes its last value.
    public static func parseCommandLine(_ arguments: [String]) -> (settings: [Setting], problems: [String]) {
        var settings: [Setting] = []
        var problems: [String] = []
        for (i, argument) in arguments.enumerated() {
            guard let eq = argument.firstIndex(of: "="), eq != argument.startIndex else {
                problems.append("--kafka-property must be KEY=VALUE; its \(ordinal(i + 1)) use has no key before '='")
                continue
            }
            let key = String(argument[..<eq])
            guard let (scope, name) = scoped(key) else {
                problems.append("--kafka-property '\(key)' names no property after its prefix")
                continue
            }
            settings.append(Setting(
                name: name, value: String(argument[argument.index(after: eq)...]), scope: scope, source: .commandLine))
        }
        return (settings, problems)
    }

    private static func ordinal(_ n: Int) -> String {
        switch (n % 10, n % 100) {
        case (1, let h) where h != 11: "\(n)st"
        case (2, let h) where h != 12: "\(n)nd"
        case (3, let h) where h != 13: "\(n)rd"
        default: "\(n)th"
        }
    }
}
