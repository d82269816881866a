import Redis
import VigilCore
import VigilService
import VigilTraffic
import VigilTraining

/// `--merchant-snapshot`: a merchant-risk snapshot covering every synthetic merchant (the generator's whole catalog),
/// published under the run's prefix before Vigil starts, so that every batch looks its merchants up (catalog 2) as in
/// production. The counts are made up (a hash of the merchant number): what is measured is the lookup's cost, not
/// what the table says.
enum MerchantSnapshot {
    static var merchants: Int { SyntheticMerchants.count }

    static func counts(_ number: Int) -> MerchantRiskCounts {
        var random = SplitMix64(seed: UInt64(number) ^ 0x6D72_6973_6B00)
        let h = random.next()
        let tx1 = Int64(h % 200), tx7 = tx1 * 7 + Int64((h >> 8) % 50), tx30 = tx7 * 4 + Int64((h >> 16) % 200)
        let fraudShare: Int64 = (h >> 24) % 100 == 0 ? 20 : 1  // per mille; one merchant in a hundred has a high rate
        return MerchantRiskCounts(
            transactions1d: tx1, transactions7d: tx7, transactions30d: tx30,
            frauds1d: tx1 * fraudShare / 1000, frauds7d: tx7 * fraudShare / 1000, frauds30d: tx30 * fraudShare / 1000)
    }

    /// Publishes the snapshot and returns its version and the time it took.
    static func publish(endpoint: RedisEndpoint, prefix: String) throws -> (version: String, seconds: Double) {
        let started = MonotonicClock.nowNs()
        // Ids of equal length in number order are in byte order, as the snapshot requires.
        let rows = (0..<merchants).map { (merchantId: SyntheticMerchants.id($0), counts: counts($0)) }
        let snapshot = MerchantRiskSnapshot(cut: MerchantRiskCut(cutMs: 1_764_547_200_000), merchants: rows)  // 2025-12-01
        let channel = MerchantRiskChannel(endpoint: endpoint, prefix: prefix)
        defer { channel.close() }
        do {
            try channel.publish(version: snapshot.version, totals: snapshot.totals, merchants: snapshot.merchants)
        } catch {
            throw LoadTestError("could not publish the merchant-risk snapshot: \(error)")
        }
        return (snapshot.version, Double(MonotonicClock.nowNs() - started) / 1e9)
    }
}
