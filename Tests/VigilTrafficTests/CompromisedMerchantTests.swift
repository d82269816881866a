import Foundation
import VigilTraffic
import XCTest

/// Compromised-merchant episodes on the multi-week history profile.
final class CompromisedMerchantTests: XCTestCase {
    static let endMs: Int64 = 1_764_000_000_000
    static let timeline = SimulatedTimeline.merchantHistory(endMs: endMs)
    static let profile = TrafficProfile.merchantHistory()
    /// 300,000 messages over 50 days.
    static let samples = generate(profile, timeline)
    static let day: Int64 = 86_400_000

    static func generate(_ profile: TrafficProfile, _ timeline: SimulatedTimeline) -> [Sample] {
        var generator = TrafficGenerator(profile: profile)
        return (0..<timeline.messages).map { i in
            let nowMs = timeline.nowMs(ofMessage: i)
            return Sample(nowMs: nowMs, message: generator.next(nowMs: nowMs))
        }
    }

    /// The well-formed transactions with their merchant.
    static let labelled: [(truth: GroundTruth, merchant: String, value: [UInt8])] = samples.compactMap { sample in
        guard let truth = sample.message.truth else { return nil }
        return (truth, truth.merchantId, sample.message.value)
    }

    static let compromised = labelled.filter { $0.truth.pattern == .compromisedMerchant }

    func testTimelineSpansFiftyDays() {
        XCTAssertEqual(Self.timeline.nowMs(ofMessage: 0), Self.endMs - 50 * Self.day)
        XCTAssertEqual(Self.timeline.nowMs(ofMessage: Self.timeline.messages), Self.endMs)
        let times = Self.labelled.map(\.truth.eventTimeMs)
        XCTAssertGreaterThan(times.max()! - times.min()!, 49 * Self.day)
    }

    func testCompromisedMerchantFraudIsSpreadOverManyCardsAndMerchants() {
        let count = Self.compromised.count
        XCTAssertTrue((500...2_000).contains(count), "\(count) compromised-merchant payments")
        let cards = Set(Self.compromised.map(\.truth.cardId))
        XCTAssertGreaterThan(Double(cards.count), 0.5 * Double(count), "\(cards.count) cards for \(count) payments")
        var perCard = [String: Int]()
        for c in Self.compromised { perCard[c.truth.cardId, default: 0] += 1 }
        // The busiest cards pay at their favourite shop every other day; even so no card carries much of it.
        XCTAssertLessThan(Double(perCard.values.max()!), 0.05 * Double(count))

        var cardsPerMerchant = [String: Set<String>]()
        for c in Self.compromised { cardsPerMerchant[c.merchant, default: []].insert(c.truth.cardId) }
        XCTAssertGreaterThanOrEqual(cardsPerMerchant.count, 15, "compromised merchants seen")
        let busy = cardsPerMerchant.values.filter { $0.count >= 20 }
        XCTAssertGreaterThanOrEqual(busy.count, 5, "merchants with 20 or more defrauded cards")
        for merchant in cardsPerMerchant.keys {
            let number = Int(merchant.dropFirst(2))!
            XCTAssertLessThan(number, 60_000, "\(merchant) is not an everyday merchant")
        }
    }

    /// Every payment at a merchant during its episode is fraud, none outside it; episodes last 2-5 weeks.
    func testEveryPaymentAtACompromisedMerchantDuringItsEpisodeIsFraud() {
        let generator = TrafficGenerator(profile: Self.profile)
        var episodes = [String: Set<Range<Int64>>]()
        var inside = 0
        for (truth, merchant, _) in Self.labelled {
            let episode = generator.compromisedEpisode(merchantId: merchant, atMs: truth.eventTimeMs)
            if let episode {
                inside += 1
                episodes[merchant, default: []].insert(episode)
                XCTAssertTrue(episode.contains(truth.eventTimeMs))
                XCTAssertTrue(truth.isFraud, "\(truth.transactionId) at \(merchant) during its episode")
                if truth.pattern != .compromisedMerchant {
                    // Only a card episode's own fraud keeps its pattern there (at everyday merchants that is
                    // impossible travel abroad, whose merchants are not everyday ones).
                    XCTFail("\(truth.transactionId): \(String(describing: truth.pattern))")
                }
            } else {
                XCTAssertNotEqual(truth.pattern, .compromisedMerchant, "\(truth.transactionId) outside any episode")
            }
        }
        XCTAssertEqual(inside, Self.compromised.count)
        for range in episodes.values.joined() {
            XCTAssertTrue((14 * Self.day...35 * Self.day).contains(range.upperBound - range.lowerBound), "\(range)")
        }
        // Episodes at random times: they start on many different days, not all at the start of the history.
        let startDays = Set(episodes.values.joined().map { $0.lowerBound / Self.day })
        XCTAssertGreaterThan(startDays.count, 10)
    }

    /// The episodes change labels and nothing else: the same profile without them gives the same messages byte for
    /// byte, so the defrauded cards' amounts, places and times are their own.
    func testCardsBehaveTheSameWithOrWithoutCompromisedMerchants() {
        var plain = Self.profile
        plain.compromisedMerchants = nil
        let short = SimulatedTimeline(endMs: Self.endMs, days: 50, messages: 60_000)
        let with = Self.generate(Self.profile, short)
        let without = Self.generate(plain, short)
        var relabelled = 0
        for (a, b) in zip(with, without) {
            XCTAssertEqual(a.message.key, b.message.key)
            XCTAssertEqual(a.message.value, b.message.value)
            guard var truth = a.message.truth else { continue }
            if truth.pattern == .compromisedMerchant {
                relabelled += 1
                XCTAssertEqual(b.message.truth?.isFraud, false)
                truth.isFraud = false
                truth.pattern = nil
                truth.reportedAtMs = b.message.truth?.reportedAtMs
            }
            XCTAssertEqual(truth, b.message.truth)
        }
        XCTAssertGreaterThan(relabelled, 50)
    }

    /// A defrauded card's payment at the compromised merchant looks like its other payments: same country and
    /// currency, an everyday category, an amount around the card's usual one, and its other payments are genuine
    /// unless it is one of the few fraud cards.
    func testDefraudedCardsPayAsTheyAlwaysDo() {
        let victims = Set(Self.compromised.map(\.truth.cardId))
        var genuine = [String: [ParsedTransaction]]()
        var otherFraud = Set<String>()
        for (truth, _, value) in Self.labelled where victims.contains(truth.cardId) {
            if truth.pattern == .compromisedMerchant { continue }
            if truth.isFraud {
                otherFraud.insert(truth.cardId)
            } else {
                genuine[truth.cardId, default: []].append(ParsedTransaction(value)!)
            }
        }
        // Card-episode fraud among the victims is about as common as among all cards (0.5 % are fraud cards).
        XCTAssertLessThan(Double(otherFraud.count) / Double(victims.count), 0.03)

        var ratios = [Double]()
        for (truth, _, value) in Self.compromised {
            let t = ParsedTransaction(value)!
            guard let own = genuine[truth.cardId], own.count >= 5 else { continue }
            XCTAssertTrue(own.contains { $0.country == t.country }, "\(truth.transactionId) away from home")
            XCTAssertTrue(own.contains { $0.currency == t.currency })
            XCTAssertTrue(["5411", "5812", "5541", "5311", "4111", "5999"].contains(t.mcc), t.mcc)
            XCTAssertTrue(["pos", "ecom"].contains(t.channel))
            let amounts = own.filter { $0.channel != "atm" }.map { Double($0.amountMinor) }.sorted()
            guard !amounts.isEmpty else { continue }
            ratios.append(Double(t.amountMinor) / amounts[amounts.count / 2])
        }
        XCTAssertGreaterThan(ratios.count, 200)
        ratios.sort()
        let median = ratios[ratios.count / 2]
        XCTAssertTrue((0.6...1.6).contains(median), "median amount ratio \(median)")
        XCTAssertLessThan(ratios[ratios.count * 95 / 100], 6, "95th percentile of the amount ratio")
    }

    /// Shares of each pattern in the history profile, and of compromised-merchant fraud in the default profile: none.
    func testPatternShares() {
        var perPattern = [FraudPattern: Int]()
        for (truth, _, _) in Self.labelled where truth.isFraud { perPattern[truth.pattern!, default: 0] += 1 }
        let total = Double(Self.labelled.count)
        let share = { (p: FraudPattern) in Double(perPattern[p] ?? 0) / total }
        XCTAssertEqual(share(.compromisedMerchant), 0.0035, accuracy: 0.0015, "\(perPattern)")
        let cardShare = FraudPattern.cardEpisodes.map(share).reduce(0, +)
        XCTAssertEqual(cardShare, 0.006, accuracy: 0.002, "\(perPattern)")
        for pattern in FraudPattern.cardEpisodes {
            // About 50 episodes each; an impossible-travel episode has one fraudulent payment.
            XCTAssertGreaterThan(perPattern[pattern] ?? 0, 30, "\(pattern): \(perPattern)")
        }
        let plain = Traffic.generate(TrafficProfile(), count: 50_000, stepMs: 60_000)
        XCTAssertFalse(plain.contains { $0.message.truth?.pattern == .compromisedMerchant })
    }

    func testFractionZeroMeansNoEpisodes() {
        var profile = Self.profile
        profile.compromisedMerchants = MerchantCompromise(merchantFraction: 0)
        let samples = Self.generate(profile, SimulatedTimeline(endMs: Self.endMs, days: 50, messages: 20_000))
        XCTAssertFalse(samples.contains { $0.message.truth?.pattern == .compromisedMerchant })
    }

    /// Episodes are a function of seed, merchant and event time: generators started on other clocks agree, other
    /// seeds compromise other merchants.
    func testEpisodesDependOnSeedMerchantAndTimeOnly() {
        let a = TrafficGenerator(profile: Self.profile)
        var late = TrafficGenerator(profile: Self.profile)
        for i in 0..<1_000 { _ = late.next(nowMs: Self.endMs + Int64(i) * 1_000) }
        var otherSeed = Self.profile
        otherSeed.seed = 7
        let b = TrafficGenerator(profile: otherSeed)
        var agree = 0, same = 0
        for (truth, merchant, _) in Self.compromised {
            let episode = a.compromisedEpisode(merchantId: merchant, atMs: truth.eventTimeMs)
            XCTAssertNotNil(episode)
            if late.compromisedEpisode(merchantId: merchant, atMs: truth.eventTimeMs) == episode { agree += 1 }
            if b.compromisedEpisode(merchantId: merchant, atMs: truth.eventTimeMs) != nil { same += 1 }
        }
        XCTAssertEqual(agree, Self.compromised.count)
        XCTAssertLessThan(Double(same), 0.05 * Double(Self.compromised.count))
    }
}
