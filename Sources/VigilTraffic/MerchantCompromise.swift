/// Compromised-merchant episodes: for weeks at a time, every payment at a compromised everyday merchant (a skimmed
/// terminal, a breached web shop) is fraud, whichever card makes it. The cards keep paying as they always do
/// (amounts, places, times typical of each card), so nothing in a card's own history gives the fraud away; only
/// many cards' payments at one merchant, joined with labels, do.
///
/// Each everyday merchant's time is cut into periods of `periodDays` (each merchant's periods start at its own
/// phase); in each period the merchant is compromised with probability `merchantFraction`, once, for
/// `minDays...maxDays` days starting at a random time within the period. The episodes are a function of the seed,
/// the merchant and the absolute event time only: they need no state, draw nothing from the generator's main stream
/// (the messages themselves are the same with or without episodes; only their labels change), and two generators
/// with the same seed agree on them whatever clock they start at.
public struct MerchantCompromise: Sendable, Equatable {
    /// Share of everyday merchants compromised once in each period, in `0...1`.
    public var merchantFraction: Double
    /// Shortest episode, in days (> 0).
    public var minDays: Double = 14
    /// Longest episode, in days (at least `minDays`).
    public var maxDays: Double = 35
    /// A merchant's period, in days (at least `maxDays`).
    public var periodDays: Double = 60

    /// Episodes at `merchantFraction` of the everyday merchants per 60-day period (default 0.005: 5 in 1000).
    public init(merchantFraction: Double = 0.005) {
        self.merchantFraction = merchantFraction
    }

    /// The expected share of everyday merchants that are compromised at any one time (0.002 with the defaults).
    public var activeShare: Double { merchantFraction * (minDays + maxDays) / 2 / periodDays }

    /// Every problem with the settings, empty if they are valid.
    var problems: [String] {
        var problems = [String]()
        if !(0...1).contains(merchantFraction) {
            problems.append("merchantFraction must be in 0...1, got \(merchantFraction)")
        }
        if !(minDays > 0 && minDays <= maxDays && maxDays <= periodDays && periodDays <= 3650) {
            problems.append("need 0 < minDays <= maxDays <= periodDays <= 3650, got \(minDays), \(maxDays), \(periodDays)")
        }
        return problems
    }
}

/// The compromised-merchant episodes of one profile, looked up by merchant and event time.
struct CompromisedMerchants: Sendable {
    private let fraction: Double
    private let salt: UInt64
    private let periodMs: Int64
    private let minMs: Int64
    private let maxMs: Int64

    init(_ settings: MerchantCompromise, seed: UInt64) {
        fraction = settings.merchantFraction
        salt = SplitMix64.hash(seed, 0xC0_3D_0A15)
        let day = 86_400_000.0
        periodMs = Int64(settings.periodDays * day)
        minMs = Int64(settings.minDays * day)
        maxMs = Int64(settings.maxDays * day)
    }

    /// The episode of merchant `merchant` (its number) that `timeMs` falls in, if the merchant is an everyday
    /// merchant compromised at that time.
    func episode(merchant: Int, atMs timeMs: Int64) -> Range<Int64>? {
        guard fraction > 0, merchant >= 0, merchant < MerchantCatalog.abroadBase else { return nil }
        let key = SplitMix64.hash(salt, UInt64(merchant))
        let phase = Int64(key % UInt64(periodMs))
        let shifted = timeMs - phase
        var period = shifted / periodMs
        if shifted % periodMs < 0 { period -= 1 }  // floor, for times before the epoch
        let draw = SplitMix64.hash(key, UInt64(bitPattern: period))
        guard Self.unit(draw) < fraction else { return nil }
        let shape = SplitMix64.mix(draw ^ 0x5EED_0F_E915)
        let duration = minMs + Int64(Self.unit(shape) * Double(maxMs - minMs))
        let start = phase + period * periodMs + Int64(Self.unit(SplitMix64.mix(shape)) * Double(periodMs - duration))
        let episode = start..<(start + duration)
        return episode.contains(timeMs) ? episode : nil
    }

    private static func unit(_ bits: UInt64) -> Double {
        Double(bits >> 11) * 0x1.0p-53
    }
}
