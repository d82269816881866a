import VigilCore

/// A merchant-risk table as of a cut: per merchant the six counts of `MerchantRiskCounts`, their totals over all
/// merchants (the prior of the smoothed rates), and the version that names it everywhere
/// (`MerchantRiskVersion.make`: the cut time and a hash of the content).
public struct MerchantRiskSnapshot: Sendable, Equatable {
    public let cut: MerchantRiskCut
    /// Merchants in byte order of their ids, each once.
    public let merchants: [(merchantId: String, counts: MerchantRiskCounts)]
    public let totals: MerchantRiskCounts
    public let contentSHA256: [UInt8]
    public let version: String

    /// `merchants` must be sorted by the ids' bytes and hold each id once (as `MerchantRiskBuilder` makes them).
    public init(cut: MerchantRiskCut, merchants: [(merchantId: String, counts: MerchantRiskCounts)]) {
        self.cut = cut
        self.merchants = merchants
        totals = merchants.reduce(MerchantRiskCounts.zero) { $0 + $1.counts }
        contentSHA256 = Self.contentHash(cut: cut, merchants: merchants, totals: totals)
        version = MerchantRiskVersion.make(cutStamp: UTCTime.version(cut.cutMs), contentSHA256: contentSHA256)
    }

    public static func == (a: MerchantRiskSnapshot, b: MerchantRiskSnapshot) -> Bool {
        a.version == b.version && a.cut == b.cut && a.totals == b.totals && a.merchants.count == b.merchants.count
            && zip(a.merchants, b.merchants).allSatisfy { $0.merchantId == $1.merchantId && $0.counts == $1.counts }
    }

    /// The counts of one merchant; `.zero` for a merchant missing from the table.
    public func counts(of merchantId: String) -> MerchantRiskCounts {
        var low = 0, high = merchants.count
        while low < high {
            let mid = (low + high) / 2
            if merchants[mid].merchantId.utf8.lexicographicallyPrecedes(merchantId.utf8) { low = mid + 1 } else { high = mid }
        }
        return low < merchants.count && merchants[low].merchantId == merchantId ? merchants[low].counts : .zero
    }

    /// SHA-256 over the label delay, the totals and every (merchant, counts) in order, each id length-prefixed, so
    /// that the same table always has the same version and any change of a count changes it. The cut is in the
    /// version's first part.
    static func contentHash(
        cut: MerchantRiskCut, merchants: [(merchantId: String, counts: MerchantRiskCounts)], totals: MerchantRiskCounts
    ) -> [UInt8] {
        var hasher = SHA256()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        buffer.append(contentsOf: "vigil merchant risk 1\nlabel_delay_ms \(cut.labelDelayMs)\ntotals \(totals.redisValue)\n".utf8)
        for (merchantId, counts) in merchants {
            let id = merchantId.utf8
            buffer.append(UInt8(truncatingIfNeeded: id.count))
            buffer.append(contentsOf: id)
            buffer.append(contentsOf: counts.redisValue.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 {
                hasher.update(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        hasher.update(buffer)
        return hasher.finalize()
    }
}
