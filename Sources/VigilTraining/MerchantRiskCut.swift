import VigilCore

/// When a merchant-risk snapshot is taken: the cut time `T` and the label delay `D` (docs/merchant-risk.md). The
/// snapshot counts transactions with event time in `[T - D - W, T - D)` and labels reported before `T`.
public struct MerchantRiskCut: Sendable, Equatable {
    public var cutMs: Int64
    public var labelDelayMs: Int64

    public static let defaultLabelDelayMs: Int64 = 7 * Windows.day

    public init(cutMs: Int64, labelDelayMs: Int64 = Self.defaultLabelDelayMs) {
        self.cutMs = cutMs
        self.labelDelayMs = labelDelayMs
    }

    /// `T - D`: the end (exclusive) of every window.
    public var windowEndMs: Int64 { cutMs - labelDelayMs }

    /// `T - D - 30 d`: the start (inclusive) of the widest window.
    public var windowStartMs: Int64 { windowEndMs - MerchantRiskCounts.windowsMs.last! }

    /// A label counts only if it was reported before the cut.
    @inline(__always) public func counts(labelReportedAtMs reported: Int64) -> Bool { reported < cutMs }

    /// The counts one transaction at `eventTimeMs` adds to its merchant: 1 in each window that holds it, and the same
    /// in the fraud counts if it is fraud. Zero outside `[T - D - 30 d, T - D)`.
    @inline(__always) public func contribution(eventTimeMs t: Int64, isFraud: Bool) -> MerchantRiskCounts {
        let end = windowEndMs
        guard t < end else { return .zero }
        let w = MerchantRiskCounts.windowsMs
        let in1 = t >= end - w[0] ? Int64(1) : 0
        let in7 = t >= end - w[1] ? Int64(1) : 0
        let in30 = t >= end - w[2] ? Int64(1) : 0
        let f: Int64 = isFraud ? 1 : 0
        return MerchantRiskCounts(
            transactions1d: in1, transactions7d: in7, transactions30d: in30,
            frauds1d: in1 * f, frauds7d: in7 * f, frauds30d: in30 * f)
    }

    /// Whether a transaction at `eventTimeMs` is in the widest window (and so in the snapshot at all).
    @inline(__always) public func isInWindow(_ t: Int64) -> Bool { t >= windowStartMs && t < windowEndMs }
}

extension MerchantRiskCut {
    /// A cut time as given on the command line: milliseconds since the epoch, `YYYY-MM-DD` (midnight UTC), or
    /// `YYYY-MM-DDTHH:MM[:SS[.mmm]]Z` (UTC; `-` instead of `:` is accepted too, as in versions). Nil if it is none.
    public static func parseTime(_ text: String) -> Int64? {
        if let ms = Int64(text) { return ms }
        let b = Array(text.utf8)
        func number(_ from: Int, _ length: Int) -> Int64? {
            guard from + length <= b.count else { return nil }
            var v: Int64 = 0
            for i in from..<(from + length) {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                v = v * 10 + Int64(b[i] - 48)
            }
            return v
        }
        guard b.count >= 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        var ms = Self.daysFromCivil(year, month, day) * 86_400_000
        guard b.count > 10 else { return ms }
        guard b[10] == UInt8(ascii: "T"), b.last == UInt8(ascii: "Z") else { return nil }
        let separators: Set<UInt8> = [UInt8(ascii: ":"), UInt8(ascii: "-")]
        guard let hour = number(11, 2), hour < 24, b.count > 13, separators.contains(b[13]),
              let minute = number(14, 2), minute < 60 else { return nil }
        ms += (hour * 60 + minute) * 60_000
        var i = 16
        if i < b.count - 1 {
            guard separators.contains(b[i]), let second = number(i + 1, 2), second < 60 else { return nil }
            ms += second * 1000
            i += 3
            if i < b.count - 1 {
                guard b[i] == UInt8(ascii: "."), let fraction = number(i + 1, 3), i + 4 == b.count - 1 else { return nil }
                ms += fraction
                i += 4
            }
        }
        return i == b.count - 1 ? ms : nil
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
