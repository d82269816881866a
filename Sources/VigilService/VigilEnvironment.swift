import Foundation

/// Settings from `VIGIL_*` environment variables, read strictly: a variable that is set but cannot be used is kept
/// as a problem naming it and its value, never replaced by the default in silence. An empty variable counts as unset.
///
/// Integers are decimal, optionally signed, within 64 bits (`1e3`, `0x10`, `1_000` and ` 5` are refused). Booleans
/// are `1` or `true` (on), `0` or `false` (off), nothing else. Ranges are checked later, with every other setting, by
/// `VigilConfig.validate()`.
public struct VigilEnvironment: Sendable {
    public let variables: [String: String]
    /// What is wrong with each set variable that could not be used, by name.
    public private(set) var problems: [String: String] = [:]

    public init(_ variables: [String: String] = ProcessInfo.processInfo.environment) {
        self.variables = variables
    }

    /// The variable's value; nil when it is unset or empty.
    public func value(_ name: String) -> String? {
        variables[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func string(_ name: String, _ fallback: String) -> String {
        value(name) ?? fallback
    }

    public mutating func int(_ name: String, _ fallback: Int) -> Int {
        guard let text = value(name) else { return fallback }
        if let number = Int(text) { return number }
        problems[name] = "\(name)='\(text)' is not an integer (decimal digits, optionally signed, within 64 bits)"
        return fallback
    }

    public mutating func bool(_ name: String, _ fallback: Bool) -> Bool {
        guard let text = value(name) else { return fallback }
        switch text {
        case "1", "true": return true
        case "0", "false": return false
        default:
            problems[name] = "\(name)='\(text)' must be 1 or true (on), 0 or false (off)"
            return fallback
        }
    }

    /// One line per problem, by variable name.
    public var problemLines: [String] {
        problems.sorted { $0.key < $1.key }.map(\.value)
    }
}
