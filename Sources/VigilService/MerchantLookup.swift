import Redis
import VigilCore

/// One batch's lookup of its merchants in the served merchant-risk snapshot (`docs/merchant-risk.md`): the distinct
/// merchants, numbered in order of first appearance, the HMGET fields that ask for them, and what the reply gives
/// each. Plain value; the pipeline thread sends the fields in its load and resolves the reply.
struct MerchantLookup {
    let snapshot: ServedMerchantRisk
    private var slots: [String: Int] = [:]
    /// HMGET fields: the totals field first, then one per merchant.
    private(set) var fields: [[UInt8]] = [Array(MerchantRiskVersion.totalsField.utf8)]

    init(_ snapshot: ServedMerchantRisk) { self.snapshot = snapshot }

    var merchantCount: Int { fields.count - 1 }

    /// The merchant's number in this batch.
    mutating func slot(for merchantId: String) -> Int {
        if let slot = slots[merchantId] { return slot }
        let slot = fields.count - 1
        slots[merchantId] = slot
        fields.append(Array(merchantId.utf8))
        return slot
    }

    /// What the reply gives each merchant. A merchant absent from the snapshot has zero counts (its rates are the
    /// prior). A reply that is not an array of the right size, a snapshot without totals (expired, deleted, never
    /// written) or unreadable totals: every merchant gets the no-snapshot defaults. An unreadable merchant value:
    /// that merchant does. `problem` says what went wrong, if anything did.
    func resolve(_ reply: RedisReply?) -> Resolved {
        let count = merchantCount
        var none = Resolved(features: [MerchantRiskFeatures](repeating: .noSnapshot, count: count),
                            fromSnapshot: [Bool](repeating: false, count: count), problem: nil)
        guard let reply else {
            none.problem = "no reply to the lookup"
            return none
        }
        guard let values = reply.array, values.count == fields.count else {
            none.problem = reply.errorMessage.map { "redis refused the lookup: \($0)" }
                ?? "reply is not an array of \(fields.count) values"
            return none
        }
        guard let totalsBytes = values[0].bytes else {
            none.problem = "the snapshot has no totals (key missing: expired, deleted or never written)"
            return none
        }
        guard let totals = totalsBytes.withUnsafeBytes({ MerchantRiskCounts(redisBytes: $0) }) else {
            none.problem = "the snapshot's totals are unreadable"
            return none
        }
        var resolved = none
        var unreadable = 0
        for slot in 0..<count {
            let counts: MerchantRiskCounts
            switch values[slot + 1] {
            case .null:
                counts = .zero
            case .bulk(let bytes):
                guard let parsed = bytes.withUnsafeBytes({ MerchantRiskCounts(redisBytes: $0) }) else {
                    unreadable += 1
                    continue
                }
                counts = parsed
            default:
                unreadable += 1
                continue
            }
            resolved.features[slot] = MerchantRiskFeatures(merchant: counts, totals: totals)
            resolved.fromSnapshot[slot] = true
        }
        if unreadable > 0 { resolved.problem = "\(unreadable) merchant values are unreadable" }
        return resolved
    }

    struct Resolved {
        /// Per merchant slot.
        var features: [MerchantRiskFeatures]
        /// Per merchant slot: whether its features come from the snapshot (else the no-snapshot defaults).
        var fromSnapshot: [Bool]
        var problem: String?
    }
}
