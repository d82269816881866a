import Foundation
import VigilTraffic
import XCTest

final class FraudEpisodeTests: XCTestCase {
    /// 200,000 messages, 20 ms apart (about 67 minutes), 100 fraud cards among 10,000.
    private static let samples = Traffic.generate(Traffic.profile(fraud: 0.01), count: 200_000)
    private static let endMs = samples.last!.nowMs

    private static let fraud: [(truth: GroundTruth, t: ParsedTransaction)] = samples.compactMap { sample in
        guard let truth = sample.message.truth, truth.isFraud else { return nil }
        return (truth, ParsedTransaction(sample.message.value)!)
    }

    /// Each card's home country and usual currency, from its genuine payments.
    private static let homes: [String: (country: String, currency: String)] = {
        var homes = [String: (String, String)]()
        for sample in samples {
            guard let truth = sample.message.truth, !truth.isFraud, homes[truth.cardId] == nil else { continue }
            let t = ParsedTransaction(sample.message.value)!
            homes[truth.cardId] = (t.country, t.currency)
        }
        return homes
    }()

    func testFraudShareIsPlausibleAndEveryPatternAppears() {
        let labelled = Self.samples.compactMap(\.message.truth)
        let share = Double(Self.fraud.count) / Double(labelled.count)
        XCTAssertTrue((0.003...0.04).contains(share), "fraud share \(share)")
        var perPattern = [FraudPattern: Int]()
        for (truth, _) in Self.fraud { perPattern[truth.pattern!, default: 0] += 1 }
        for pattern in FraudPattern.cardEpisodes {
            XCTAssertGreaterThan(perPattern[pattern] ?? 0, 10, "\(pattern)")
        }
        let fraudCards = Set(Self.fraud.map(\.truth.cardId))
        XCTAssertTrue((50...100).contains(fraudCards.count), "\(fraudCards.count) fraud cards")
    }

    func testCardTestingComesInBurstsOfTinyPaymentsAtRiskyMerchants() {
        var bursts = [String: [[Int64]]]()
        for (truth, t) in Self.fraud where truth.pattern == .cardTesting {
            XCTAssertEqual(t.channel, "ecom")
            XCTAssertTrue(["5967", "6051"].contains(t.mcc))
            XCTAssertFalse(t.hasLocation)
            if t.currency == "EUR" { XCTAssertTrue((50...200).contains(t.amountMinor), "\(t.amountMinor)") }
            // A card's episodes are at least tens of minutes apart: a pause of 10 minutes starts a new burst.
            if let last = bursts[truth.cardId]?.last?.last, truth.eventTimeMs - last < 600_000 {
                bursts[truth.cardId]![bursts[truth.cardId]!.count - 1].append(truth.eventTimeMs)
            } else {
                bursts[truth.cardId, default: []].append([truth.eventTimeMs])
            }
        }
        let complete = bursts.values.joined().filter { $0.first! < Self.endMs - 240_000 }
        XCTAssertGreaterThan(complete.count, 20)
        for burst in complete {
            XCTAssertTrue((10...40).contains(burst.count), "burst of \(burst.count): \(burst.map { $0 - burst[0] })")
            XCTAssertLessThanOrEqual(burst.max()! - burst.min()!, 180_000)
        }
    }

    /// The integration tests' traffic: few cards, event time advancing 20 s per message.
    func testEpisodesKeepTheirShapeOnACoarseClock() {
        var profile = Traffic.profile(fraud: 0.15, malformed: 0.02, outOfOrder: 0.05, late: 0.01)
        profile.cards = 40
        let samples = Traffic.generate(profile, count: 20_000, stepMs: 20_000)
        var bursts = [String: [[Int64]]]()
        var patterns = Set<FraudPattern>()
        for sample in samples {
            guard let truth = sample.message.truth, truth.isFraud else { continue }
            patterns.insert(truth.pattern!)
            XCTAssertLessThanOrEqual(sample.nowMs - truth.eventTimeMs, 240_250)
            guard truth.pattern == .cardTesting else { continue }
            if let last = bursts[truth.cardId]?.last?.last, truth.eventTimeMs - last < 600_000 {
                bursts[truth.cardId]![bursts[truth.cardId]!.count - 1].append(truth.eventTimeMs)
            } else {
                bursts[truth.cardId, default: []].append([truth.eventTimeMs])
            }
        }
        XCTAssertEqual(patterns, Set(FraudPattern.cardEpisodes))
        let complete = bursts.values.joined().filter { $0.first! < samples.last!.nowMs - 3_600_000 }
        XCTAssertGreaterThan(complete.count, 10)
        for burst in complete {
            XCTAssertTrue((10...40).contains(burst.count), "burst of \(burst.count)")
            let inFirstThreeMinutes = burst.filter { $0 - burst[0] <= 180_000 }.count
            XCTAssertGreaterThanOrEqual(inFirstThreeMinutes, 10, "\(burst.map { $0 - burst[0] })")
        }
    }

    func testAccountTakeoverComesFromFarAwayWithBigRiskyPayments() {
        let takeovers = Self.fraud.filter { $0.truth.pattern == .accountTakeover }
        XCTAssertFalse(takeovers.isEmpty)
        for (truth, t) in takeovers {
            XCTAssertTrue(["NG", "BR", "VN", "US"].contains(t.country), t.country)
            XCTAssertNotEqual(t.country, Self.homes[truth.cardId]?.country)
            XCTAssertTrue(["4829", "7995"].contains(t.mcc))
            XCTAssertTrue(t.hasLocation)
            XCTAssertEqual(t.currency, Self.homes[truth.cardId]?.currency ?? t.currency)
        }
    }

    func testHighValueSpreeStaysAtHomeWithLargeAmounts() {
        let sprees = Self.fraud.filter { $0.truth.pattern == .highValueSpree }
        XCTAssertFalse(sprees.isEmpty)
        for (truth, t) in sprees {
            XCTAssertTrue(["5732", "5944"].contains(t.mcc))
            if let home = Self.homes[truth.cardId] { XCTAssertEqual(t.country, home.country) }
            if t.currency == "EUR" { XCTAssertGreaterThan(t.amountMinor, 10_000 / 10, "\(t.amountMinor)") }
        }
        // Ten times the card's typical amount or more: the spree amounts dwarf the everyday median.
        let everydayEUR = Self.samples.filter { $0.message.truth?.isFraud == false }
            .compactMap { ParsedTransaction($0.message.value) }.filter { $0.currency == "EUR" }.map(\.amountMinor).sorted()
        let spreeEUR = sprees.map(\.t).filter { $0.currency == "EUR" }.map(\.amountMinor).sorted()
        XCTAssertGreaterThan(spreeEUR[spreeEUR.count / 2], 10 * everydayEUR[everydayEUR.count / 2])
    }

    func testImpossibleTravelFollowsAHomePaymentFromAnotherContinent() {
        var located = [String: [(timeMs: Int64, lat: Double, lon: Double)]]()
        var checked = 0
        for sample in Self.samples {
            guard let truth = sample.message.truth, let t = ParsedTransaction(sample.message.value) else { continue }
            if truth.pattern == .impossibleTravel {
                XCTAssertEqual(t.channel, "pos")
                XCTAssertTrue(t.hasLocation)
                let window: ClosedRange<Int64> = 599_000...3_601_000  // 10-60 minutes, give or take a second
                let earlier = (located[truth.cardId] ?? []).filter { home in
                    let gapMs: Int64 = truth.eventTimeMs - home.timeMs
                    return window.contains(gapMs) && haversineKm(home.lat, home.lon, t.lat, t.lon) > 3_000
                }
                XCTAssertFalse(earlier.isEmpty, "no home payment 10-60 minutes before \(truth.transactionId)")
                checked += 1
            }
            if !truth.isFraud && t.hasLocation { located[truth.cardId, default: []].append((truth.eventTimeMs, t.lat, t.lon)) }
        }
        XCTAssertGreaterThan(checked, 10)
    }

    func testNormalTrafficOfFraudCardsStaysGenuine() {
        let fraudCards = Set(Self.fraud.map(\.truth.cardId))
        let genuine = Self.samples.compactMap(\.message.truth).filter { fraudCards.contains($0.cardId) && !$0.isFraud }
        XCTAssertGreaterThan(genuine.count, 100)
        XCTAssertTrue(genuine.allSatisfy { $0.pattern == nil })
    }

    func testNoFraudWhenTheFractionIsZero() {
        let samples = Traffic.generate(Traffic.profile(fraud: 0), count: 20_000)
        XCTAssertFalse(samples.contains { $0.message.truth?.isFraud == true })
    }
}
