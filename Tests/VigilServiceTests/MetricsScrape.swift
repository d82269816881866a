import Foundation

/// A scraped exposition text, parsed: each sample's series (`name{labels}` as written) and value, and the families
/// with their TYPE and HELP lines.
struct MetricsScrape {
    let text: String
    private(set) var samples: [String: Double] = [:]
    private(set) var types: [String: String] = [:]
    private(set) var helps: [String: String] = [:]

    init(_ text: String) {
        self.text = text
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
            } else if line.hasPrefix("# HELP ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1)
                if parts.count == 2 { helps[String(parts[0])] = String(parts[1]) }
            } else if !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) {
                samples[String(line[..<space])] = value
            }
        }
    }

    subscript(series: String) -> Double? { samples[series] }

    /// The sum of a family's samples (every label set), nil if it has none.
    func sum(_ name: String) -> Double? {
        let values = samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }.map(\.value)
        return values.isEmpty ? nil : values.reduce(0, +)
    }

    /// The series of a family (exactly `name`, or `name{...}`).
    func series(_ name: String) -> [String: Double] {
        samples.filter { $0.key == name || $0.key.hasPrefix(name + "{") }
    }
}
