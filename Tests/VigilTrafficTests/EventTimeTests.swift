import VigilTraffic
import XCTest

final class EventTimeTests: XCTestCase {
    func testEventTimesAreFreshOutOfOrderOrLate() {
        let samples = Traffic.generate(Traffic.profile(fraud: 0.01, outOfOrder: 0.05, late: 0.01), count: 100_000)
        var fresh = 0, outOfOrder = 0, late = 0
        for sample in samples {
            guard let truth = sample.message.truth else { continue }
            let lagMs = sample.nowMs - truth.eventTimeMs
            if sample.message.isLate {
                XCTAssertFalse(truth.isFraud)
                XCTAssertTrue((2 * 3_600_000...6 * 3_600_000).contains(lagMs), "late by \(lagMs) ms")
                late += 1
            } else if lagMs >= 1_000 {
                XCTAssertLessThanOrEqual(lagMs, 240_000)
                outOfOrder += 1
            } else {
                XCTAssertTrue((0..<250).contains(lagMs), "lag \(lagMs) ms")
                fresh += 1
            }
        }
        let total = Double(fresh + outOfOrder + late)
        XCTAssertEqual(Double(late) / total, 0.01, accuracy: 0.002)
        XCTAssertEqual(Double(outOfOrder) / total, 0.05, accuracy: 0.005)
    }

    func testDefaultsKeepDisorderRare() {
        let samples = Traffic.generate(TrafficProfile(), count: 100_000)
        let late = samples.filter(\.message.isLate).count
        XCTAssertTrue((20...90).contains(late), "\(late) late of 100000")
    }
}
