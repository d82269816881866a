import Foundation

/// Number and text formatting for the terminal and the report (no `String(format:)` with `%@`, which is not
/// portable).
enum Format {
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(decimals)f", value)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
    }

    static func padRight(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// 1234567 -> "1,234,567".
    static func grouped(_ value: Int) -> String {
        let digits = String(abs(value))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return value < 0 ? "-" + out : out
    }

    static func percent(_ ratio: Double?, _ decimals: Int = 1) -> String {
        ratio.map { fixed($0 * 100, decimals) + " %" } ?? "n/a"
    }

    static func megabytes(_ bytes: Int64?) -> String {
        bytes.map { fixed(Double($0) / 1_048_576, 1) + " MB" } ?? "n/a"
    }

    static func ms(_ value: Double?) -> String {
        guard let value else { return "n/a" }
        return value < 10 ? fixed(value, 2) : (value < 100 ? fixed(value, 1) : fixed(value, 0))
    }

    /// The command line as a shell would need it quoted.
    static func commandLine(_ arguments: [String]) -> String {
        arguments.map { arg in
            let safe = arg.allSatisfy { $0.isLetter || $0.isNumber || "-_./:=,@+%".contains($0) }
            return safe && !arg.isEmpty ? arg : "'" + arg.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
