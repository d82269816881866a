/// UTC calendar formatting of epoch milliseconds, for model versions and reports. Pure.
public enum UTCTime {
    /// `2026-11-25T02:00:00Z`.
    public static func iso(_ ms: Int64) -> String {
        let (date, h, m, s) = parts(ms)
        return "\(date)T\(two(h)):\(two(m)):\(two(s))Z"
    }

    /// A model version: `2026-11-25T02-00-00Z` (no colons, so it can be part of a file name).
    public static func version(_ ms: Int64) -> String {
        let (date, h, m, s) = parts(ms)
        return "\(date)T\(two(h))-\(two(m))-\(two(s))Z"
    }

    static func parts(_ ms: Int64) -> (String, Int64, Int64, Int64) {
        let seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return ("\(four(year))-\(two(month))-\(two(d))", rest / 3600, rest % 3600 / 60, rest % 60)
    }

    static func two(_ x: Int64) -> String { x < 10 ? "0\(x)" : "\(x)" }
    static func four(_ x: Int64) -> String {
        var s = "\(x)"
        while s.count < 4 { s = "0" + s }
        return s
    }
}
