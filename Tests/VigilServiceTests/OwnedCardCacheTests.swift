import VigilCore
import XCTest
@testable import VigilService

final class OwnedCardCacheTests: XCTestCase {
    func state(events: Int) -> CardState {
        var s = CardState()
        for i in 0..<events {
            s.apply(Transaction(
                transactionId: "t\(i)", cardId: "c", amountMinor: 100, currency: CurrencyCode("EUR")!,
                merchantId: "m-\(i)", mcc: 5411, country: CountryCode("DE")!, channel: .pos, location: nil,
                eventTimeMs: 1_764_000_000_000 + Int64(i)), amount: 1, partitionMaxEventMs: 1_764_000_000_000 + Int64(i),
                config: FeatureConfig())
        }
        return s
    }

    func card(_ i: Int, partition: Int32 = 0) -> CardKey { CardKey(partition: partition, cardId: "card-\(i)") }

    func testAStoredCardIsTakenBackAsStored() {
        var cache = OwnedCardCache(budgetBytes: 1 << 20, maxAgeMs: 1000)
        let s = state(events: 40)
        cache.put(card(1), s, nowMs: 0)
        XCTAssertEqual(cache.take(card(1), nowMs: 10), s)
        XCTAssertNil(cache.take(card(2), nowMs: 10))
        XCTAssertNil(cache.take(CardKey(partition: 1, cardId: "card-1"), nowMs: 10), "the partition is part of the key")
        // Stored again: the newer state replaces it, and the bytes are not counted twice.
        let bytes = cache.bytes
        let newer = state(events: 41)
        cache.put(card(1), newer, nowMs: 20)
        XCTAssertEqual(cache.take(card(1), nowMs: 30), newer)
        XCTAssertEqual(cache.count, 1)
        XCTAssertGreaterThan(cache.bytes, bytes - 1)
    }

    func testACardOlderThanTheMaximumAgeIsNotUsed() {
        var cache = OwnedCardCache(budgetBytes: 1 << 20, maxAgeMs: 1000)
        cache.put(card(1), state(events: 8), nowMs: 0)
        XCTAssertNotNil(cache.take(card(1), nowMs: 999))
        XCTAssertNil(cache.take(card(1), nowMs: 1000))
    }

    func testTheBudgetBoundsTheBytesAndKeepsTheRecentlyUsedCards() {
        let budget = 200_000
        var cache = OwnedCardCache(budgetBytes: budget, maxAgeMs: .max)
        let s = state(events: 20)
        let size = OwnedCardCache.footprint(of: s, card: card(0))
        XCTAssertGreaterThan(size, 20 * MemoryLayout<CardState.Event>.stride)
        for i in 0..<2_000 {
            cache.put(card(i), s, nowMs: 0)
            XCTAssertLessThanOrEqual(cache.bytes, budget)
            // Card 0 is used all the time: it survives every turnover.
            XCTAssertNotNil(cache.take(card(0), nowMs: 0), "card 0 after \(i)")
        }
        XCTAssertGreaterThan(cache.count, budget / size / 2 - 2, "at least half the budget is in use")
        XCTAssertNil(cache.take(card(1), nowMs: 0), "an early card used once is gone")
    }

    func testABusyCardCountsItsIndexAndACardOverHalfTheBudgetIsNotKept() {
        let small = OwnedCardCache.footprint(of: state(events: 32), card: card(0))
        let indexed = OwnedCardCache.footprint(of: state(events: 33), card: card(0))
        XCTAssertGreaterThan(indexed - small, 33 * 12, "the window index's tables are counted")
        var cache = OwnedCardCache(budgetBytes: 2 * small, maxAgeMs: .max)
        cache.put(card(1), state(events: 200), nowMs: 0)
        XCTAssertEqual(cache.count, 0)
        XCTAssertEqual(cache.bytes, 0)
    }

    func testRemovingPartitionsForgetsOnlyTheirCards() {
        var cache = OwnedCardCache(budgetBytes: 1 << 20, maxAgeMs: .max)
        var kept = 0
        for p in Int32(0)..<3 {
            for i in 0..<5 {
                let s = state(events: 9)
                cache.put(card(i, partition: p), s, nowMs: 0)
                if p != 1 { kept += OwnedCardCache.footprint(of: s, card: card(i, partition: p)) }
            }
        }
        cache.remove(partitions: [1])
        XCTAssertEqual(cache.count, 10)
        XCTAssertEqual(cache.bytes, kept)
        XCTAssertNil(cache.take(card(3, partition: 1), nowMs: 0))
        XCTAssertNotNil(cache.take(card(3, partition: 2), nowMs: 0))
        cache.removeAll()
        XCTAssertEqual(cache.count, 0)
        XCTAssertEqual(cache.bytes, 0)
    }

    func testABudgetOfZeroKeepsNothing() {
        var cache = OwnedCardCache(budgetBytes: 0, maxAgeMs: .max)
        cache.put(card(1), state(events: 10), nowMs: 0)
        XCTAssertNil(cache.take(card(1), nowMs: 0))
    }

    func testOnlyBusyCardsAreKeptAndACardTurningQuietIsForgotten() {
        var cache = OwnedCardCache(budgetBytes: 1 << 20, maxAgeMs: .max)
        cache.put(card(1), state(events: OwnedCardCache.minimumEvents - 1), nowMs: 0)
        XCTAssertNil(cache.take(card(1), nowMs: 0))
        cache.put(card(1), state(events: OwnedCardCache.minimumEvents), nowMs: 0)
        XCTAssertNotNil(cache.take(card(1), nowMs: 0))
        // Stored again with fewer events (folded): the cached state is not left behind, stale.
        cache.put(card(1), state(events: 2), nowMs: 0)
        XCTAssertNil(cache.take(card(1), nowMs: 0))
        XCTAssertEqual(cache.bytes, 0)
    }
}
