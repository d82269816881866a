import Foundation
import Kafka
import XCTest

@testable import VigilService

final class RedisOutageTests: XCTestCase {
    let a = TopicPartition(topic: "t", partition: 0)
    let b = TopicPartition(topic: "t", partition: 1)
    let c = TopicPartition(topic: "t", partition: 2)

    func testEveryAssignedPartitionIsPausedOnceIncludingLaterAssignments() {
        var outage = RedisOutage(since: Date(), resumeAt: [a: 10])
        var pausedCalls: [[TopicPartition]] = []
        outage.pauseNew([a, b]) { pausedCalls.append($0) }
        outage.pauseNew([a, b]) { pausedCalls.append($0) }
        outage.pauseNew([a, b, c]) { pausedCalls.append($0) }
        XCTAssertEqual(pausedCalls, [[a, b], [c]])
        XCTAssertEqual(outage.paused, [a, b, c])
    }

    func testRevokedPartitionsAreResumedAndForgotten() {
        var outage = RedisOutage(since: Date(), resumeAt: [a: 10, b: 20])
        outage.pauseNew([a, b]) { _ in }
        XCTAssertEqual(outage.revoked([a, c]), [a], "only what was paused is resumed")
        XCTAssertEqual(outage.paused, [b])
        XCTAssertEqual(outage.resumeAt, [b: 20], "a new assignment starts where its claim says")
        var paused: [TopicPartition] = []
        outage.pauseNew([a, b]) { paused += $0 }
        XCTAssertEqual(paused, [a], "assigned again during the outage: paused again")
    }

    func testRecordsArrivingDuringTheOutageLowerWhereTheirPartitionResumes() {
        var outage = RedisOutage(since: Date(), resumeAt: [a: 10, b: 50])
        outage.arrived(a, at: 12)  // after the failed batch's start: the start stays
        outage.arrived(b, at: 40)  // before the recorded position: resume there
        outage.arrived(c, at: 7)   // a partition assigned during the outage
        outage.arrived(c, at: 5)
        XCTAssertEqual(outage.resumeAt, [a: 10, b: 40, c: 5])
    }
}
