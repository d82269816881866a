import VigilCore
import VigilService
import VigilTraffic

/// `--merchant-snapshot`: a merchant-risk snapshot covering every synthetic merchant (`m-00000` to `m-99999`, the
/// generator's whole catalog), published under the run's prefix before Vigil starts, so that every batch looks its
/// merchants up (catalog 2) as in production. The counts are made up (a deterministic hash of the merchant number):
/// what is measured is the lookup's cost, not what the table says.
enum MerchantSnapshot {
    static let merchants = 100_000

    static func counts(_ number: Int) -> MerchantRiskCounts {
        var random = SplitMix64(seed: UInt64(number) ^ 0x6D72_6973_6B00)
        let h = random.next()
        let tx1 = Int64(h % 200), tx7 = tx1 * 7 + Int64((h >> 8) % 50), tx30 = tx7 * 4 + Int64((h >> 16) % 200)
        let fraudShare = (h >> 24) % 100 == 0 ? 20 : 1  // one merchant in a hundred has a high rate
        return MerchantRiskCounts(
            transactions1d: tx1, transactions7d: tx7, transactions30d: tx30,
            frauds1d: tx1 * Int64(fraudShare) / 1000, frauds7d: tx7 * Int64(fraudShare) / 1000,
            frauds30d: tx30 * Int64(fraudShare) / 1000)
    }

    /// Publishes the snapshot and returns its version and the time it took.
    static func publish(host: String, port: Int, prefix: String) throws -> (version: String, seconds: Double) {
        let started = MonotonicClock.nowNs()
        var digest = SHA256()
        var rows: [(merchantId: String, counts: MerchantRiskCounts)] = []
        rows.reserveCapacity(merchants)
        var totals = MerchantRiskCounts.zero
        for number in 0..<merchants {
            var id = "m-" + String(number)
            while id.utf8.count < 7 { id.insert("0", at: id.index(id.startIndex, offsetBy: 2)) }
            let c = counts(number)
            rows.append((id, c))
            digest.update(Array((id + "=" + c.redisValue + "\n").utf8))
            totals.transactions1d += c.transactions1d
            totals.transactions7d += c.transactions7d
            totals.transactions30d += c.transactions30d
            totals.frauds1d += c.frauds1d
            totals.frauds7d += c.frauds7d
            totals.frauds30d += c.frauds30d
        }
        let version = MerchantRiskVersion.make(cutStamp: "2026-12-01T00-00-00Z", contentSHA256: digest.finalize())
        let channel = MerchantRiskChannel(host: host, port: port, prefix: prefix)
        defer { channel.close() }
        do {
            try channel.publish(version: version, totals: totals, merchants: rows)
        } catch {
            throw LoadTestError("could not publish the merchant-risk snapshot: \(error)")
        }
        return (version, Double(MonotonicClock.nowNs() - started) / 1e9)
    }
}
