import Kafka
import XCTest

@testable import VigilService

/// `PartitionOwnership` transition by transition.
final class PartitionOwnershipTests: XCTestCase {
    typealias R = PartitionRecord

    func testAnAssignedPartitionIsClaimedThenStartsWhereRedisSays() {
        var (p, action) = PartitionOwnership.assigned()
        XCTAssertEqual(action, .claim)
        XCTAssertEqual(p.state, .unclaimed)
        XCTAssertEqual(p.claimed(R(applied: 9, epoch: 2), committed: 10), .start(at: 10))
        XCTAssertEqual(p.state, .owned(record: R(applied: 9, epoch: 2), replayUntil: nil))
        XCTAssertEqual(p.record, R(applied: 9, epoch: 2))
    }

    func testAClaimBehindTheCommittedOffsetReplaysUntilItWithoutOutputs() {
        var (p, _) = PartitionOwnership.assigned()
        XCTAssertEqual(p.claimed(R(applied: 9, epoch: 2), committed: 25), .start(at: 10))
        XCTAssertEqual(p.state, .owned(record: R(applied: 9, epoch: 2), replayUntil: 25))
        XCTAssertEqual(p.emittedUntil, 25)
        p.stored(R(applied: 19, epoch: 2))
        XCTAssertEqual(p.state, .owned(record: R(applied: 19, epoch: 2), replayUntil: 25), "still replaying")
        p.stored(R(applied: 24, epoch: 2))
        XCTAssertEqual(p.state, .owned(record: R(applied: 24, epoch: 2), replayUntil: nil), "caught up")
    }

    func testRedisLostEverythingRebuildsFromTheBeginning() {
        var (p, _) = PartitionOwnership.assigned()
        XCTAssertEqual(p.claimed(R(applied: nil, epoch: 1), committed: 50), .start(at: KafkaOffset.beginning))
        XCTAssertEqual(p.emittedUntil, 50)
    }

    func testAFailedClaimWaitsForTheNextBatch() {
        var (p, _) = PartitionOwnership.assigned()
        XCTAssertEqual(p.claimFailed(), .none)
        XCTAssertEqual(p.state, .unclaimed)
        XCTAssertNil(p.record)
    }

    func testANewerEpochFencesAndPauses() {
        var (p, _) = PartitionOwnership.assigned()
        _ = p.claimed(R(applied: 9, epoch: 2), committed: nil)
        XCTAssertEqual(p.fenced(current: R(applied: 12, epoch: 3)), .pause)
        XCTAssertEqual(p.state, .fenced)
        XCTAssertEqual(p.fenced(current: R(applied: 12, epoch: 4)), .none, "already fenced")
    }

    func testLostWritesAreClaimedAgainKeepingTheEmittedMark() {
        var (p, _) = PartitionOwnership.assigned()
        _ = p.claimed(R(applied: 9, epoch: 2), committed: nil)
        p.noteEmitted(until: 40)
        XCTAssertEqual(p.fenced(current: R(applied: 3, epoch: 2)), .claim)
        XCTAssertEqual(p.state, .unclaimed)
        XCTAssertEqual(p.claimed(R(applied: 3, epoch: 3), committed: 20), .start(at: 4))
        XCTAssertEqual(p.state, .owned(record: R(applied: 3, epoch: 3), replayUntil: 40), "emitted by this instance: not again")
    }

    func testARevokeCommitsTheEmittedMarkBeforeForgetting() {
        var (p, _) = PartitionOwnership.assigned()
        _ = p.claimed(R(applied: 9, epoch: 2), committed: nil)
        p.noteEmitted(until: 30)
        p.noteEmitted(until: 20)  // marks never go back
        XCTAssertEqual(p.revoked(), .commitAndForget(offset: 30))
        XCTAssertEqual(p.state, .revoked)
        XCTAssertEqual(p.claimed(R(applied: 9, epoch: 3), committed: nil), .none, "a late claim of a revoked partition does nothing")
    }

    func testARevokeWithNothingEmittedCommitsNothing() {
        var (p, _) = PartitionOwnership.assigned()
        XCTAssertEqual(p.revoked(), .commitAndForget(offset: nil))
    }
}
