import Kafka
import Redis
import XCTest

@testable import VigilService

/// The fences and the start plan as decision tables, with no I/O; then the batch script against the same table on a
/// real Redis, so the Lua fence and the pure rule cannot drift apart.
final class PartitionFenceTests: XCTestCase {
    typealias R = PartitionRecord

    /// (current in Redis, expected by the writer, admitted)
    let writeTable: [(R, R, Bool)] = [
        (R(applied: 10, epoch: 3), R(applied: 10, epoch: 3), true),
        (R(applied: 10, epoch: 4), R(applied: 10, epoch: 3), false),  // claimed by another instance
        (R(applied: 12, epoch: 3), R(applied: 10, epoch: 3), false),  // someone wrote past us
        (R(applied: 8, epoch: 3), R(applied: 10, epoch: 3), false),  // Redis lost writes
        (R(applied: nil, epoch: 3), R(applied: 10, epoch: 3), false),  // lost the applied offset
        (R(applied: nil, epoch: nil), R(applied: 10, epoch: 3), false),  // lost everything
        (R(applied: nil, epoch: 1), R(applied: nil, epoch: 1), true),  // first batch of a new partition
        (R(applied: 10, epoch: nil), R(applied: 10, epoch: 3), false),
    ]

    func testTheWriteFenceAdmitsOnlyTheExactRecord() {
        for (i, (current, expected, admitted)) in writeTable.enumerated() {
            XCTAssertEqual(PartitionFence.admitsWrite(current: current, expected: expected), admitted, "row \(i)")
        }
    }

    func testTheLoadFenceAdmitsAnyRecordOfTheBatchesInFlight() {
        let before = R(applied: 10, epoch: 3)
        let inFlight = [R(applied: 20, epoch: 3), R(applied: 30, epoch: 3)]
        for applied: Int64 in [10, 20, 30] {
            XCTAssertTrue(PartitionFence.admitsLoad(current: R(applied: applied, epoch: 3), acceptable: [before] + inFlight))
        }
        XCTAssertFalse(PartitionFence.admitsLoad(current: R(applied: 25, epoch: 3), acceptable: [before] + inFlight))
        XCTAssertFalse(PartitionFence.admitsLoad(current: R(applied: 20, epoch: 4), acceptable: [before] + inFlight))
        XCTAssertFalse(PartitionFence.admitsLoad(current: R(applied: nil, epoch: nil), acceptable: [before]))
    }

    func testARefusalIsAnotherOwnerOnlyWithANewerEpoch() {
        XCTAssertEqual(PartitionFence.cause(current: R(applied: 5, epoch: 4), ownEpoch: 3), .claimedElsewhere)
        XCTAssertEqual(PartitionFence.cause(current: R(applied: 5, epoch: 3), ownEpoch: 3), .redisLostWrites)
        XCTAssertEqual(PartitionFence.cause(current: R(applied: nil, epoch: nil), ownEpoch: 3), .redisLostWrites)
        XCTAssertEqual(PartitionFence.cause(current: R(applied: 5, epoch: 2), ownEpoch: 3), .redisLostWrites)
        XCTAssertEqual(PartitionFence.cause(current: R(applied: 5, epoch: 1), ownEpoch: nil), .claimedElsewhere)
    }

    /// Where a newly owned partition starts, from Redis's record, the group's committed offset and what this instance
    /// emitted itself: (applied, committed, emitted) -> (start, replayUntil); start nil = the committed offset.
    func testTheStartPlanDecisionTable() {
        let b = KafkaOffset.beginning
        let table: [(Int64?, Int64?, Int64?, Int64?, Int64?)] = [
            (nil, nil, nil, nil, nil),  // a new partition: committed offset or auto.offset.reset, nothing to replay
            (nil, 0, nil, nil, nil),  // committed at 0: nothing was emitted
            (nil, 50, nil, b, 50),  // Redis lost everything, outputs up to 50 are out: rebuild from the start
            (nil, nil, 50, b, 50),  // the same, known only to this instance
            (9, nil, nil, 10, nil),  // normal restart: Redis says where the state ends
            (9, 10, nil, 10, nil),  // committed == applied + 1: nothing to replay
            (9, 8, nil, 10, nil),  // committed behind Redis (at-least-once commit lost): Redis wins
            (9, 25, nil, 10, 25),  // emitted but not stored: replay 10..<25 without outputs
            (9, 25, 30, 10, 30),  // this instance emitted further than the group knows
            (9, 12, 11, 10, 12),
        ]
        for (i, row) in table.enumerated() {
            let plan = StartPlan.make(record: R(applied: row.0, epoch: 1), committed: row.1, emitted: row.2)
            XCTAssertEqual(plan, StartPlan(start: row.3, replayUntil: row.4), "row \(i)")
        }
    }

    /// The batch script refuses exactly what the pure rule refuses, on a real Redis.
    func testTheBatchScriptAgreesWithTheRule() throws {
        let redis = try RedisServerProcess.start()
        defer { redis.stop() }
        let store = StateStore(host: redis.host, port: redis.port, prefix: "fence-test")
        let raw = try RedisConnection(host: redis.host, port: redis.port)
        for (i, (current, expected, admitted)) in writeTable.enumerated() {
            let tp = TopicPartition(topic: "t", partition: Int32(i))
            let key = store.partitionKey(tp)
            _ = try raw.send("DEL", key)
            if let applied = current.applied { _ = try raw.send("HSET", key, "applied", String(applied)) }
            if let epoch = current.epoch { _ = try raw.send("HSET", key, "epoch", String(epoch)) }
            var updated = expected
            updated.applied = (expected.applied ?? -1) + 5
            updated.maxEventMs = 1
            let update = PartitionUpdate(partition: tp, expected: expected, updated: updated)
            let outcome = Result { () throws(StateStoreError) in
                try store.write(partitions: [update], cards: [], ttlMs: 60_000)
            }
            switch outcome {
            case .success:
                XCTAssertTrue(admitted, "row \(i): the script wrote what the rule refuses")
                XCTAssertEqual(try store.loadPartition(tp).applied, updated.applied, "row \(i)")
            case .failure(.fenced(let report)):
                XCTAssertFalse(admitted, "row \(i): the script refused what the rule admits")
                XCTAssertEqual(report.current.applied, current.applied, "row \(i)")
                XCTAssertEqual(report.current.epoch, current.epoch, "row \(i)")
            case .failure(let error):
                XCTFail("row \(i): \(error)")
            }
        }
    }
}
