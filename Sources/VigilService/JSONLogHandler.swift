import Foundation
import Logging

/// swift-log lines as one JSON object per line, for log collectors (`--log-format json`):
/// `{"ts":"2026-12-03T09:13:00.123Z","level":"info","logger":"vigil","source":"VigilService","message":"...","brokers":"..."}`.
/// Metadata keys become fields beside the fixed ones (a key that would shadow one is prefixed with `meta.`); nested
/// metadata is written as JSON objects and arrays.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    /// Writes to standard error, one `write(2)` per line (lines of concurrent loggers do not interleave).
    public static func standardError(label: String) -> JSONLogHandler {
        JSONLogHandler(label: label) { line in
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            _ = bytes.withUnsafeBytes { Foundation.write(2, $0.baseAddress, $0.count) }
        }
    }

    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        write(Self.line(
            date: Date(), level: event.level, label: label, source: event.source, message: event.message.description,
            metadata: merged))
    }

    static let fixedKeys: Set<String> = ["ts", "level", "logger", "source", "message"]

    static func line(
        date: Date, level: Logger.Level, label: String, source: String, message: String, metadata: Logger.Metadata
    ) -> String {
        var out = "{\"ts\":\(quoted(timestamp(date))),\"level\":\(quoted(level.rawValue)),\"logger\":\(quoted(label))"
        out += ",\"source\":\(quoted(source)),\"message\":\(quoted(message))"
        for key in metadata.keys.sorted() {
            let name = fixedKeys.contains(key) ? "meta." + key : key
            out += ",\(quoted(name)):\(json(metadata[key]!))"
        }
        return out + "}"
    }

    static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): quoted(s)
        case .stringConvertible(let c): quoted(c.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\(quoted($0)):\(json(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var t = time_t(ms / 1000)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(ms % 1000))
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
