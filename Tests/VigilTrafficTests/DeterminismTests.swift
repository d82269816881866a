import VigilTraffic
import XCTest

final class DeterminismTests: XCTestCase {
    func testSameSeedGivesIdenticalMessages() {
        let profile = Traffic.profile(fraud: 0.01, malformed: 0.01)
        let first = Traffic.generate(profile, count: 10_000)
        let second = Traffic.generate(profile, count: 10_000)
        for (a, b) in zip(first, second) {
            XCTAssertEqual(a.message, b.message)
            if a.message != b.message { return }
        }
    }

    func testDifferentSeedsGiveDifferentMessages() {
        let first = Traffic.generate(Traffic.profile(seed: 1), count: 10_000)
        let second = Traffic.generate(Traffic.profile(seed: 2), count: 10_000)
        let equal = zip(first, second).filter { $0.message.value == $1.message.value }.count
        XCTAssertEqual(equal, 0)
        let firstIds = Set(first.compactMap { $0.message.truth?.transactionId })
        XCTAssertTrue(second.allSatisfy { $0.message.truth.map { !firstIds.contains($0.transactionId) } ?? true })
    }

    func testCopiedGeneratorContinuesIdentically() {
        var original = TrafficGenerator(profile: Traffic.profile(fraud: 0.05))
        for i in 0..<5_000 { _ = original.next(nowMs: Traffic.startMs + Int64(i) * 20) }
        var copy = original
        for i in 5_000..<10_000 {
            let nowMs = Traffic.startMs + Int64(i) * 20
            XCTAssertEqual(original.next(nowMs: nowMs), copy.next(nowMs: nowMs))
        }
        XCTAssertEqual(original.generatedCount, 10_000)
        XCTAssertEqual(copy.generatedCount, 10_000)
    }
}

final class HistoryDeterminismTests: XCTestCase {
    /// The history profile, labels and report times included, is the same on every run.
    func testHistoryProfileIsDeterministic() {
        let timeline = SimulatedTimeline(endMs: Traffic.startMs, days: 50, messages: 20_000)
        func run(_ seed: UInt64) -> [GeneratedMessage] {
            var generator = TrafficGenerator(profile: .merchantHistory(seed: seed))
            return (0..<timeline.messages).map { generator.next(nowMs: timeline.nowMs(ofMessage: $0)) }
        }
        let first = run(42), second = run(42), other = run(43)
        XCTAssertEqual(first, second)
        XCTAssertTrue(first.contains { $0.truth?.pattern == .compromisedMerchant })
        XCTAssertTrue(first.contains { $0.truth?.reportedAtMs != nil })
        let reported = { (messages: [GeneratedMessage]) in messages.compactMap { $0.truth?.reportedAtMs } }
        XCTAssertNotEqual(reported(first), reported(other))
    }
}
