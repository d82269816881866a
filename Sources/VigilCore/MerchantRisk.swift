/// Merchant risk: what the batch layer counts per merchant as of a cut time, and the features the stream derives from
/// it (feature catalog v2, docs/contract.md; design in docs/merchant-risk.md). The batch job and the pipeline both go
/// through this type, so the value published to Redis and the features scored from it cannot drift apart.
///
/// Pure: no I/O.
public struct MerchantRiskCounts: Sendable, Equatable, Hashable {
    /// Windows of the table, in the order of the arrays below: 1, 7 and 30 days.
    public static let windowsMs: [Int64] = [Windows.day, 7 * Windows.day, Windows.thirtyDays]

    /// Transactions at the merchant with event time in `[T - D - W, T - D)`, for `W` = 1, 7, 30 days.
    public var transactions1d: Int64
    public var transactions7d: Int64
    public var transactions30d: Int64
    /// Of those, the ones labelled fraud by a label reported before `T`.
    public var frauds1d: Int64
    public var frauds7d: Int64
    public var frauds30d: Int64

    public init(
        transactions1d: Int64 = 0, transactions7d: Int64 = 0, transactions30d: Int64 = 0,
        frauds1d: Int64 = 0, frauds7d: Int64 = 0, frauds30d: Int64 = 0
    ) {
        self.transactions1d = transactions1d
        self.transactions7d = transactions7d
        self.transactions30d = transactions30d
        self.frauds1d = frauds1d
        self.frauds7d = frauds7d
        self.frauds30d = frauds30d
    }

    public static let zero = MerchantRiskCounts()

    /// Pseudo-count of the smoothed fraud rate: a merchant's rate is `(frauds + m * prior) / (transactions + m)`, so a
    /// merchant with one transaction and one fraud has a rate near the prior, not 1.0.
    public static let priorStrength: Double = 10

    /// The snapshot's value for one merchant in Redis: six non-negative decimal integers separated by commas, in the
    /// order `tx_1d,tx_7d,tx_30d,fraud_1d,fraud_7d,fraud_30d`.
    public var redisValue: String {
        "\(transactions1d),\(transactions7d),\(transactions30d),\(frauds1d),\(frauds7d),\(frauds30d)"
    }

    /// Parses `redisValue`; nil when it is not six non-negative integers with frauds at most transactions. One parser
    /// for every caller: the allocation-free `init?(redisBytes:)`.
    public init?(redisValue bytes: some Collection<UInt8>) {
        let parsed = Array(bytes).withUnsafeBytes { MerchantRiskCounts(redisBytes: $0) }
        guard let parsed else { return nil }
        self = parsed
    }

    public init?(redisValue string: String) {
        self.init(redisValue: Array(string.utf8))
    }

    public static func + (a: MerchantRiskCounts, b: MerchantRiskCounts) -> MerchantRiskCounts {
        MerchantRiskCounts(
            transactions1d: a.transactions1d + b.transactions1d, transactions7d: a.transactions7d + b.transactions7d,
            transactions30d: a.transactions30d + b.transactions30d, frauds1d: a.frauds1d + b.frauds1d,
            frauds7d: a.frauds7d + b.frauds7d, frauds30d: a.frauds30d + b.frauds30d)
    }
}

/// The six merchant features of catalog v2 for one transaction, derived from its merchant's counts and the snapshot's
/// totals over all merchants (the prior).
public struct MerchantRiskFeatures: Sendable, Equatable {
    public var transactions1d: Double
    public var transactions7d: Double
    public var transactions30d: Double
    public var fraudRate1d: Double
    public var fraudRate7d: Double
    public var fraudRate30d: Double

    /// What a transaction gets when no snapshot is served (none published, or it cannot be read): zero everywhere.
    public static let noSnapshot = MerchantRiskFeatures(
        transactions1d: 0, transactions7d: 0, transactions30d: 0, fraudRate1d: 0, fraudRate7d: 0, fraudRate30d: 0)

    public init(
        transactions1d: Double, transactions7d: Double, transactions30d: Double,
        fraudRate1d: Double, fraudRate7d: Double, fraudRate30d: Double
    ) {
        self.transactions1d = transactions1d
        self.transactions7d = transactions7d
        self.transactions30d = transactions30d
        self.fraudRate1d = fraudRate1d
        self.fraudRate7d = fraudRate7d
        self.fraudRate30d = fraudRate30d
    }

    /// `merchant_tx_W` is the merchant's count; `merchant_fraud_rate_W` is `(f + m * p) / (n + m)` with `n`, `f` the
    /// merchant's transactions and frauds in the window, `m = MerchantRiskCounts.priorStrength`, and `p` the rate over
    /// all merchants of the snapshot in that window (`totals`), 0 when the window holds no transaction. A merchant
    /// missing from the snapshot has `n = f = 0`, so its rate is `p`.
    public init(merchant: MerchantRiskCounts, totals: MerchantRiskCounts) {
        let m = MerchantRiskCounts.priorStrength
        func rate(_ f: Int64, _ n: Int64, _ totalF: Int64, _ totalN: Int64) -> Double {
            let prior = totalN > 0 ? Double(totalF) / Double(totalN) : 0
            return (Double(f) + m * prior) / (Double(n) + m)
        }
        self.init(
            transactions1d: Double(merchant.transactions1d),
            transactions7d: Double(merchant.transactions7d),
            transactions30d: Double(merchant.transactions30d),
            fraudRate1d: rate(merchant.frauds1d, merchant.transactions1d, totals.frauds1d, totals.transactions1d),
            fraudRate7d: rate(merchant.frauds7d, merchant.transactions7d, totals.frauds7d, totals.transactions7d),
            fraudRate30d: rate(merchant.frauds30d, merchant.transactions30d, totals.frauds30d, totals.transactions30d))
    }
}

/// Names of a merchant-risk snapshot: `{cut}-{hash}`, the cut time as `YYYY-MM-DDTHH-MM-SSZ` (UTC) and the first 12
/// hex digits of the SHA-256 of the snapshot's content, so two snapshots of the same cut with other content differ.
public enum MerchantRiskVersion {
    /// The field of the snapshot hash that holds the totals over all merchants (the prior). A `merchant_id` is 1-64
    /// bytes, so the empty field can never be a merchant.
    public static let totalsField = ""

    /// The value `merchant_risk_version` takes in a feature record when no snapshot was served.
    public static let none = "none"

    /// `cutStamp` is the cut time as a model version is written (`UTCTime.version` in VigilTraining).
    public static func make(cutStamp: String, contentSHA256 digest: [UInt8]) -> String {
        let hex = digest.prefix(6).map { byte -> String in
            let s = String(byte, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
        return "\(cutStamp)-\(hex)"
    }
}
