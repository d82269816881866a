/// When each message of an open-loop run is due: `rate` per second, reached by a linear ramp from 0 over
/// `rampSeconds`, for `seconds`. Message i is due at `time(of: i)` whatever happened to the messages before it, so
/// a stalled system cannot slow the publisher down (no coordinated omission).
struct OpenLoopSchedule: Sendable {
    let rate: Double
    let rampSeconds: Double
    let seconds: Double

    /// Messages due in [0, t]: the integral of the rate.
    func expected(at t: Double) -> Double {
        guard t > 0 else { return 0 }
        if t < rampSeconds { return rate * t * t / (2 * rampSeconds) }
        return rate * rampSeconds / 2 + rate * (t - rampSeconds)
    }

    /// The number of messages of the run.
    var total: Int { Int(expected(at: seconds).rounded(.up)) }

    /// How many messages are due by `t` (message 0 is due at 0).
    func due(at t: Double) -> Int {
        t < 0 ? 0 : min(total, Int(expected(at: t).rounded(.down)) + 1)
    }

    /// When message `i` (0-based) is due, in seconds from the start.
    func time(of i: Int) -> Double {
        let n = Double(i)
        let rampCount = rate * rampSeconds / 2
        if n < rampCount { return (2 * n * rampSeconds / rate).squareRoot() }
        return rampSeconds + (n - rampCount) / rate
    }

    /// The target rate at `t`.
    func rate(at t: Double) -> Double {
        t < rampSeconds ? rate * t / rampSeconds : rate
    }
}
