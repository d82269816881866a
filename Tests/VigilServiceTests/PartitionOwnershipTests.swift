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

/// `PartitionTable`: the pipeline's view of every assigned partition, each a `PartitionOwnership`.
final class PartitionTableTests: XCTestCase {
    typealias R = PartitionRecord
    let p0 = TopicPartition(topic: "transactions", partition: 0)
    let p1 = TopicPartition(topic: "transactions", partition: 1)

    func testAssignedPartitionsNeedAClaimAndOwnedOnesHaveTheirRecord() {
        let table = PartitionTable()
        table.assign([p0, p1])
        XCTAssertEqual(table.count, 2)
        XCTAssertTrue(table.needsClaim(p0))
        XCTAssertNil(table.record(p0))
        let plan = table.claimed(p0, R(applied: 9, epoch: 2), committed: 25)
        XCTAssertEqual(plan, StartPlan(start: 10, replayUntil: 25))
        XCTAssertFalse(table.needsClaim(p0))
        XCTAssertEqual(table.record(p0), R(applied: 9, epoch: 2))
        XCTAssertEqual(table.emittedUntil(p0), 25)
        table.stored(p0, R(applied: 30, epoch: 2))
        XCTAssertEqual(table.record(p0), R(applied: 30, epoch: 2))
        XCTAssertEqual(table.owned.map(\.0), [p0])
    }

    func testAPartitionClaimedElsewhereIsNeverClaimedBackByABatch() {
        let table = PartitionTable()
        table.assign([p0])
        _ = table.claimed(p0, R(applied: 9, epoch: 2), committed: nil)
        XCTAssertEqual(table.fenced(p0, current: R(applied: 11, epoch: 3)), .pause)
        XCTAssertTrue(table.isFenced(p0))
        XCTAssertFalse(table.needsClaim(p0), "a batch still holding its records must drop them, not claim it back")
        XCTAssertNil(table.record(p0))
        XCTAssertEqual(table.assigned, [p0], "still assigned until the group takes it away")
    }

    func testLostWritesAreClaimedByTheNextBatchKeepingTheEmittedMark() {
        let table = PartitionTable()
        table.assign([p0])
        _ = table.claimed(p0, R(applied: 9, epoch: 2), committed: nil)
        table.noteEmitted(p0, until: 40)
        XCTAssertEqual(table.fenced(p0, current: R(applied: nil, epoch: 2)), .claim)
        XCTAssertTrue(table.needsClaim(p0))
        XCTAssertEqual(table.claimed(p0, R(applied: nil, epoch: 3), committed: 20), StartPlan(start: KafkaOffset.beginning, replayUntil: 40))
    }

    func testARevokeReturnsTheMarksToCommitAndForgets() {
        let table = PartitionTable()
        table.assign([p0, p1])
        _ = table.claimed(p0, R(applied: 9, epoch: 2), committed: nil)
        table.noteEmitted(p0, until: 12)
        XCTAssertEqual(table.revoke([p0, p1]), [p0: 12], "p1 emitted nothing")
        XCTAssertEqual(table.count, 0)
        table.noteEmitted(p0, until: 50)
        XCTAssertNil(table.emittedUntil(p0), "a revoked partition keeps nothing")
        XCTAssertTrue(table.needsClaim(p0))
    }
}
