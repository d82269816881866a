import Foundation
import VigilTraffic
import XCTest

final class MalformedTests: XCTestCase {
    func testMalformedShareMatchesTheProfile() {
        let samples = Traffic.generate(Traffic.profile(), count: 200_000)
        let share = Double(samples.filter { $0.message.malformed != nil }.count) / Double(samples.count)
        XCTAssertEqual(share, 0.001, accuracy: 0.0003)

        let heavy = Traffic.generate(Traffic.profile(seed: 7, malformed: 0.05), count: 20_000)
        let heavyShare = Double(heavy.filter { $0.message.malformed != nil }.count) / Double(heavy.count)
        XCTAssertEqual(heavyShare, 0.05, accuracy: 0.01)
    }

    func testEveryKindAppearsAndBreaksTheContractAsItSays() throws {
        let samples = Traffic.generate(Traffic.profile(malformed: 0.05), count: 20_000)
        let malformed = samples.map(\.message).filter { $0.malformed != nil }
        XCTAssertEqual(Set(malformed.compactMap(\.malformed)), Set(MalformedKind.allCases))
        for message in malformed {
            let kind = try XCTUnwrap(message.malformed)
            let text = String(decoding: message.value.prefix(300), as: UTF8.self)
            XCTAssertNil(message.truth)
            XCTAssertFalse(message.isLate)
            let problems = Contract.violations(key: message.key, value: message.value)
            XCTAssertFalse(problems.isEmpty, "\(kind): \(text)")
            let parsed = ParsedTransaction(message.value)
            switch kind {
            case .notJSON, .truncated:
                XCTAssertEqual(problems, ["not a JSON object"], "\(kind): \(text)")
                XCTAssertNotNil(message.key)
            case .missingField:
                XCTAssertEqual(problems.count, 1, "\(problems)")
                XCTAssertTrue(problems.first?.hasPrefix("missing ") ?? false, "\(problems)")
            case .badAmount:
                XCTAssertEqual(problems, ["amount_minor range"])
                XCTAssertLessThanOrEqual(try XCTUnwrap(parsed?.int("amount_minor")), 0)
            case .badCurrency:
                XCTAssertEqual(problems, ["currency"])
                XCTAssertTrue(["EURO", "eur"].contains(parsed?.currency ?? ""))
            case .keyMismatch:
                XCTAssertEqual(problems, ["key differs from card_id"])
                XCTAssertNotNil(String(decoding: message.key ?? [], as: UTF8.self).range(of: "^card-[0-9a-f]{8}$", options: .regularExpression))
            case .badChannel:
                XCTAssertEqual(problems, ["channel"])
                XCTAssertEqual(parsed?.channel, "web")
            case .oversized:
                XCTAssertEqual(problems, ["larger than 16 KiB"])
            }
        }
    }

    func testTruncatedMessagesAreProperPrefixesOfTransactions() {
        let samples = Traffic.generate(Traffic.profile(malformed: 0.05), count: 20_000)
        for message in samples.map(\.message) where message.malformed == .truncated {
            XCTAssertEqual(message.value.first, UInt8(ascii: "{"))
            XCTAssertNotEqual(message.value.last, UInt8(ascii: "}"))
        }
    }
}
