/// Which cards are fraud cards, and the episodes running on them.
struct FraudSchedule: Sendable {
    /// Fraud card indices in the order episodes visit them.
    let cards: [Int]
    /// Chance per message that a new episode starts.
    let startProbability: Double
    private(set) var episodes: [FraudEpisode] = []
    /// The earliest `nextDueMs` of all episodes, so that most messages need a single comparison.
    private(set) var earliestDueMs: Int64 = .max
    private var cursor = 0
    private var patternBag: [FraudPattern] = []

    init<R: RandomSource>(profile: TrafficProfile, random: inout R) {
        let fraction = profile.fraudCardFraction
        var count = Int((Double(profile.cards) * fraction).rounded())
        if fraction > 0 { count = min(max(count, 1), profile.cards) }
        // Floyd's sampling of `count` distinct indices, sorted (Set order is not deterministic), then shuffled.
        var chosen = Set<Int>()
        for j in (profile.cards - count)..<profile.cards {
            let t = random.below(j + 1)
            chosen.insert(chosen.contains(t) ? j : t)
        }
        var cards = chosen.sorted()
        cards.deterministicShuffle(using: &random)
        self.cards = cards
        startProbability = cards.isEmpty ? 0 : fraction / 8
    }

    /// The index of the most overdue episode, if one is due at `nowMs`.
    func dueEpisode(nowMs: Int64) -> Int? {
        var best: Int?
        for (i, episode) in episodes.enumerated() where episode.nextDueMs <= nowMs {
            if let b = best, episodes[b].nextDueMs <= episode.nextDueMs { continue }
            best = i
        }
        return best
    }

    /// The fraud card whose turn it is, or nil while its previous episode is still running. Strict turns keep
    /// episodes fair when the caller's clock is fast compared with episode lengths: a card whose episode was short
    /// does not get picked again and again while the others are busy.
    mutating func nextCard() -> Int? {
        let card = cards[cursor]
        if episodes.contains(where: { $0.card == card }) { return nil }
        cursor = (cursor + 1) % cards.count
        return card
    }

    /// Patterns come out of a shuffled bag of the four card episodes, so each shows up early and equally often.
    mutating func nextPattern<R: RandomSource>(random: inout R) -> FraudPattern {
        if patternBag.isEmpty {
            patternBag = FraudPattern.cardEpisodes
            patternBag.deterministicShuffle(using: &random)
        }
        return patternBag.removeLast()
    }

    mutating func add(_ episode: FraudEpisode) -> Int {
        episodes.append(episode)
        earliestDueMs = min(earliestDueMs, episode.nextDueMs)
        return episodes.count - 1
    }

    mutating func update(_ episode: FraudEpisode, at index: Int) {
        if episode.isFinished {
            episodes.remove(at: index)
        } else {
            episodes[index] = episode
        }
        earliestDueMs = episodes.lazy.map(\.nextDueMs).min() ?? .max
    }
}

extension Array {
    /// Fisher-Yates with our own draws, so the order is the same on every Swift version.
    mutating func deterministicShuffle<R: RandomSource>(using random: inout R) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            swapAt(i, random.below(i + 1))
        }
    }
}
