import Foundation
import VigilTraffic
import XCTest

final class ContractTests: XCTestCase {
    private static let samples = Traffic.generate(Traffic.profile(fraud: 0.01), count: 50_000)

    func testEveryWellFormedMessageHonoursTheContract() {
        var checked = 0
        for sample in Self.samples where sample.message.malformed == nil {
            let message = sample.message
            let problems = Contract.violations(key: message.key, value: message.value)
            XCTAssertEqual(problems, [], String(decoding: message.value, as: UTF8.self))
            if !problems.isEmpty { return }
            guard let truth = message.truth, let t = ParsedTransaction(message.value) else {
                return XCTFail("well-formed message without truth")
            }
            XCTAssertEqual(t.string("transaction_id"), truth.transactionId)
            XCTAssertEqual(t.cardId, truth.cardId)
            XCTAssertEqual(t.eventTimeMs, truth.eventTimeMs)
            XCTAssertEqual(message.key, Array(truth.cardId.utf8))
            XCTAssertEqual(truth.pattern != nil, truth.isFraud)
            checked += 1
        }
        XCTAssertGreaterThan(checked, 49_000)
    }

    func testFieldsAreWrittenExactlyAsTheContractNamesThem() throws {
        let sample = try XCTUnwrap(Self.samples.first { $0.message.malformed == nil && ParsedTransaction($0.message.value)!.hasLocation })
        let text = String(decoding: sample.message.value, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"schema_version\":1,\"transaction_id\":\"tx-"), text)
        let keys = try XCTUnwrap(ParsedTransaction(sample.message.value)).object.keys.sorted()
        XCTAssertEqual(keys, (Contract.requiredFields + ["lat", "lon"]).sorted())
        // lat/lon with five decimals, integers without any.
        XCTAssertNotNil(text.range(of: #""lat":-?[0-9]+\.[0-9]{5},"lon":-?[0-9]+\.[0-9]{5},"#, options: .regularExpression))
        XCTAssertNotNil(text.range(of: #""amount_minor":[0-9]+,"#, options: .regularExpression))
        XCTAssertNotNil(text.range(of: #""event_time_ms":[0-9]+\}$"#, options: .regularExpression))
    }

    func testIdentifiersAreUniqueOpaqueAndStable() {
        let truths = Self.samples.compactMap(\.message.truth)
        XCTAssertEqual(Set(truths.map(\.transactionId)).count, truths.count)
        let cardIds = Set(truths.map(\.cardId))
        XCTAssertLessThanOrEqual(cardIds.count, 10_000)
        XCTAssertGreaterThan(cardIds.count, 8_000)  // quiet cards may not have paid yet
        for id in cardIds {
            XCTAssertNotNil(id.range(of: "^card-[0-9a-f]{8}$", options: .regularExpression), id)
        }
        for id in truths.prefix(100).map(\.transactionId) {
            XCTAssertNotNil(id.range(of: "^tx-[0-9a-f]{8}-[0-9]+$", options: .regularExpression), id)
        }
    }

    func testCardActivityIsSkewed() {
        var perCard = [String: Int]()
        for truth in Self.samples.compactMap(\.message.truth) where !truth.isFraud { perCard[truth.cardId, default: 0] += 1 }
        let counts = perCard.values.sorted()
        let busiest = counts.suffix(10).reduce(0, +) / 10
        let median = counts[counts.count / 2]
        XCTAssertGreaterThan(busiest, 6 * median, "busiest \(busiest), median \(median)")
    }

    func testTrafficLooksLikeCardPayments() {
        let parsed = Self.samples.filter { $0.message.truth?.isFraud == false }.compactMap { ParsedTransaction($0.message.value) }
        let located = Double(parsed.filter(\.hasLocation).count) / Double(parsed.count)
        XCTAssertEqual(located, 0.8, accuracy: 0.07)
        var channels = [String: Int]()
        for t in parsed { channels[t.channel, default: 0] += 1 }
        XCTAssertGreaterThan(channels["pos"]!, channels["ecom"]!)
        XCTAssertGreaterThan(channels["ecom"]!, channels["atm"]!)
        XCTAssertGreaterThan(channels["atm"]!, 0)
        XCTAssertTrue(parsed.allSatisfy { !["4829", "5967", "6051", "7995"].contains($0.mcc) || $0.channel == "ecom" })
        for mcc in ["5411", "5812", "5541", "5311", "4111", "5999", "6011"] {
            XCTAssertTrue(parsed.contains { $0.mcc == mcc }, mcc)
        }
        // Amounts suit each currency's minor unit: the median payment is worth 10-100 euro everywhere.
        let perEuro: [String: Double] = ["EUR": 1, "GBP": 0.85, "PLN": 4.3, "SEK": 11.3, "JPY": 160, "KWD": 0.33]
        let exponent: [String: Double] = ["JPY": 1, "KWD": 1000]
        for (currency, rate) in perEuro {
            let euros = parsed.filter { $0.currency == currency }
                .map { Double($0.amountMinor) / (exponent[currency] ?? 100) / rate }.sorted()
            XCTAssertGreaterThan(euros.count, 20, currency)
            guard !euros.isEmpty else { continue }
            XCTAssertTrue((10...100).contains(euros[euros.count / 2]), "\(currency) median \(euros[euros.count / 2]) EUR")
        }
        // Home countries pay in their own currency.
        let currencyOf = ["DE": "EUR", "FR": "EUR", "GB": "GBP", "PL": "PLN", "SE": "SEK", "JP": "JPY", "KW": "KWD"]
        for t in parsed { if let expected = currencyOf[t.country] { XCTAssertEqual(t.currency, expected) } }
    }

    func testLabelJSONFollowsTheContract() throws {
        let truth = try XCTUnwrap(Self.samples.compactMap(\.message.truth).first { $0.isFraud })
        let bytes = TrafficGenerator.labelJSON(for: truth, reportedAtMs: 1_766_592_000_000)
        let label = try XCTUnwrap(ParsedTransaction(bytes))
        XCTAssertEqual(label.object.keys.sorted(), ["is_fraud", "reported_at_ms", "schema_version", "transaction_id"])
        XCTAssertEqual(label.int("schema_version"), 1)
        XCTAssertEqual(label.string("transaction_id"), truth.transactionId)
        XCTAssertEqual(label.object["is_fraud"] as? Bool, true)
        XCTAssertEqual(label.int("reported_at_ms"), 1_766_592_000_000)
        XCTAssertEqual(
            String(decoding: bytes, as: UTF8.self),
            "{\"schema_version\":1,\"transaction_id\":\"\(truth.transactionId)\",\"is_fraud\":true,\"reported_at_ms\":1766592000000}")

        let odd = GroundTruth(transactionId: "a\"b\\c\nd", cardId: "card-1", isFraud: false, pattern: nil, eventTimeMs: 0)
        let oddLabel = try XCTUnwrap(ParsedTransaction(TrafficGenerator.labelJSON(for: odd, reportedAtMs: -5)))
        XCTAssertEqual(oddLabel.string("transaction_id"), "a\"b\\c\nd")
        XCTAssertEqual(oddLabel.object["is_fraud"] as? Bool, false)
        XCTAssertEqual(oddLabel.int("reported_at_ms"), -5)
    }
}
