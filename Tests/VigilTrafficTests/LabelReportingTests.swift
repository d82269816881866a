import Foundation
import VigilTraffic
import XCTest

/// When labels are reported: fraud days after the payment (some never), genuine payments unlabelled by default.
final class LabelReportingTests: XCTestCase {
    static let day = 86_400_000.0
    static let truths = CompromisedMerchantTests.samples.compactMap(\.message.truth)
    static let fraud = truths.filter(\.isFraud)

    func testFraudDelaysAreDaysWithAFiveDayMedianAndAQuarterNeverReported() {
        XCTAssertGreaterThan(Self.fraud.count, 2_000)
        let reported = Self.fraud.compactMap { t in t.reportedAtMs.map { Double($0 - t.eventTimeMs) / Self.day } }
        let neverShare = 1 - Double(reported.count) / Double(Self.fraud.count)
        XCTAssertEqual(neverShare, 0.25, accuracy: 0.03)
        let delays = reported.sorted()
        func quantile(_ q: Double) -> Double { delays[Int(q * Double(delays.count - 1))] }
        XCTAssertGreaterThanOrEqual(delays.first!, 1)
        XCTAssertLessThanOrEqual(delays.last!, 30)
        XCTAssertEqual(quantile(0.5), 5, accuracy: 0.6)
        // Log-normal, sigma 0.8: quartiles at 5 x e^(-+0.54) = 2.9 and 8.6 days.
        XCTAssertEqual(quantile(0.25), 2.9, accuracy: 0.5)
        XCTAssertEqual(quantile(0.75), 8.6, accuracy: 1.0)
        // The tail is long: some labels take weeks.
        XCTAssertGreaterThan(delays.filter { $0 > 14 }.count, delays.count / 50)
        // Every pattern is reported alike.
        for pattern in FraudPattern.allCases {
            let ofPattern = Self.fraud.filter { $0.pattern == pattern }
            let share = Double(ofPattern.filter { $0.reportedAtMs == nil }.count) / Double(ofPattern.count)
            XCTAssertEqual(share, 0.25, accuracy: 0.15, "\(pattern)")
        }
    }

    func testNoLabelIsReportedBeforeItsPayment() {
        for truth in Self.truths {
            if let reported = truth.reportedAtMs { XCTAssertGreaterThan(reported, truth.eventTimeMs, truth.transactionId) }
        }
    }

    func testGenuinePaymentsAreUnlabelledByDefaultOrLabelledAtTheConfiguredShare() {
        XCTAssertFalse(Self.truths.contains { !$0.isFraud && $0.reportedAtMs != nil })
        var profile = TrafficProfile.merchantHistory()
        profile.labels.genuineLabelledFraction = 0.1
        let genuine = Traffic.generate(profile, count: 30_000, stepMs: 60_000).compactMap(\.message.truth)
            .filter { !$0.isFraud }
        let labelled = genuine.filter { $0.reportedAtMs != nil }
        XCTAssertEqual(Double(labelled.count) / Double(genuine.count), 0.1, accuracy: 0.01)
        for t in labelled {
            XCTAssertTrue((Self.day...7 * Self.day).contains(Double(t.reportedAtMs! - t.eventTimeMs)))
        }
    }

    func testSettingsChangeLabelsOnly() {
        var profile = TrafficProfile.merchantHistory()
        profile.labels.fraudNeverReportedFraction = 1
        let never = Traffic.generate(profile, count: 20_000, stepMs: 60_000)
        let usual = Traffic.generate(TrafficProfile.merchantHistory(), count: 20_000, stepMs: 60_000)
        XCTAssertTrue(never.allSatisfy { $0.message.truth?.reportedAtMs == nil })
        XCTAssertTrue(usual.contains { $0.message.truth?.reportedAtMs != nil })
        XCTAssertEqual(never.map(\.message.value), usual.map(\.message.value))
    }

    func testLabelAndTruthLinesAreWhatTheFraudTeamAndTrainingRead() throws {
        let fraud = try XCTUnwrap(Self.fraud.first { $0.reportedAtMs != nil && $0.pattern == .compromisedMerchant })
        let label = try XCTUnwrap(TrafficGenerator.labelJSON(for: fraud))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(label)) as? [String: Any])
        XCTAssertEqual(object["schema_version"] as? Int, 1)
        XCTAssertEqual(object["transaction_id"] as? String, fraud.transactionId)
        XCTAssertEqual(object["is_fraud"] as? Bool, true)
        XCTAssertEqual((object["reported_at_ms"] as? NSNumber)?.int64Value, fraud.reportedAtMs)

        let unreported = try XCTUnwrap(Self.fraud.first { $0.reportedAtMs == nil })
        XCTAssertNil(TrafficGenerator.labelJSON(for: unreported))

        XCTAssertEqual(
            String(decoding: TrafficGenerator.truthJSON(for: fraud), as: UTF8.self),
            "{\"transaction_id\":\"\(fraud.transactionId)\",\"pattern\":\"compromised_merchant\"}")
        let genuine = try XCTUnwrap(Self.truths.first { !$0.isFraud })
        XCTAssertEqual(
            String(decoding: TrafficGenerator.truthJSON(for: genuine), as: UTF8.self),
            "{\"transaction_id\":\"\(genuine.transactionId)\",\"pattern\":\"none\"}")
    }

    func testTruthNamesTheMessagesMerchant() {
        for sample in CompromisedMerchantTests.samples.prefix(5_000) {
            guard let truth = sample.message.truth else { continue }
            XCTAssertEqual(ParsedTransaction(sample.message.value)?.string("merchant_id"), truth.merchantId)
        }
    }
}

final class LabelQueueTests: XCTestCase {
    /// Released in report order, never before the clock reaches the report time, each exactly once.
    func testReleasesLabelsInReportOrderOnceTheClockPassesThem() throws {
        var queue = LabelQueue()
        var released = [GroundTruth]()
        var queued = 0
        for sample in CompromisedMerchantTests.samples.prefix(100_000) {
            while let due = queue.popDue(atMs: sample.nowMs) {
                let at = try XCTUnwrap(due.reportedAtMs)
                XCTAssertLessThanOrEqual(at, sample.nowMs)
                if let last = released.last?.reportedAtMs { XCTAssertLessThanOrEqual(last, at) }
                released.append(due)
            }
            if let truth = sample.message.truth, queue.add(truth) { queued += 1 }
        }
        XCTAssertGreaterThan(released.count, 100)
        XCTAssertEqual(released.count + queue.count, queued)
        XCTAssertEqual(Set(released.map(\.transactionId)).count, released.count)
        XCTAssertGreaterThan(try XCTUnwrap(queue.nextReportMs), CompromisedMerchantTests.samples[99_999].nowMs)
        XCTAssertFalse(queue.add(GroundTruth(transactionId: "tx-1", cardId: "card-1", isFraud: true, pattern: nil, eventTimeMs: 0)))
    }
}
