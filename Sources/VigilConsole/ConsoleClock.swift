import Foundation

enum ConsoleClock {
    /// Wall-clock milliseconds since the epoch: `reported_at_ms` and session times.
    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
