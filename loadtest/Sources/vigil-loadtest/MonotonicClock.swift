#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CLOCK_MONOTONIC in nanoseconds: every latency and rate of the tool is measured on it, in one process.
enum MonotonicClock {
    static func nowNs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Sleeps the calling thread until `deadlineNs` (monotonic), or not at all if it has passed.
    static func sleep(untilNs deadlineNs: Int64) {
        let remaining = deadlineNs - nowNs()
        guard remaining > 0 else { return }
        var request = timespec(tv_sec: Int(remaining / 1_000_000_000), tv_nsec: Int(remaining % 1_000_000_000))
        var left = timespec()
        while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
    }

    static func sleep(seconds: Double) {
        sleep(untilNs: nowNs() + Int64(seconds * 1e9))
    }
}
