import Kafka
import Redis
import VigilCore
import XCTest

@testable import VigilService

/// `StateStore` against a real redis-server: the deployment key and card state per partition.
final class StateStoreTests: XCTestCase {
    var redis: RedisServerProcess!

    override func setUpWithError() throws { redis = try RedisServerProcess.start() }
    override func tearDown() { redis.stop() }

    func store(_ prefix: String = "vigil") -> StateStore { StateStore(host: redis.host, port: redis.port, prefix: prefix) }

    func get(_ key: String) throws -> RedisReply {
        try RedisConnection(host: redis.host, port: redis.port).send("GET", key)
    }

    let a = Deployment(group: "A", topic: "transactions")
    let tp = TopicPartition(topic: "transactions", partition: 0)

    func testThePrefixBelongsToTheFirstDeployment() throws {
        try store().register(a)
        try store().register(a)  // the same deployment again: a restart
        for other in [Deployment(group: "B", topic: "transactions"), Deployment(group: "A", topic: "payments")] {
            XCTAssertThrowsError(try store().register(other)) { error in
                guard case StateStoreError.otherDeployment(let conflict) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(conflict.owner, self.a)
                XCTAssertEqual("\(error)", "redis prefix 'vigil' belongs to consumer group 'A' on topic 'transactions'; "
                    + "this instance is group '\(other.group)' on topic '\(other.topic)': use another --redis-prefix (or, "
                    + "if that deployment is gone for good, delete the key 'vigil:deployment' and its keys)")
            }
        }
        try store("vigil-b").register(Deployment(group: "B", topic: "transactions"))  // another prefix is fine
    }

    func testAClaimChecksTheDeploymentAndClaimsNothingForAnother() throws {
        XCTAssertEqual(try store().claimPartition(tp, for: a).epoch, 1, "registers the deployment if nobody holds the prefix")
        let b = Deployment(group: "B", topic: "transactions")
        XCTAssertThrowsError(try store().claimPartition(tp, for: b)) { error in
            guard case StateStoreError.otherDeployment(let conflict) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(conflict.owner, self.a)
        }
        XCTAssertEqual(try store().loadPartition(tp).epoch, 1, "the other deployment's claim changed nothing")
        // Redis lost the deployment key (FLUSHALL) and B started meanwhile: A's next claim is refused.
        _ = try RedisConnection(host: redis.host, port: redis.port).send("FLUSHALL")
        try store().register(b)
        XCTAssertThrowsError(try store().claimPartition(tp, for: a))
        XCTAssertEqual(try store().claimPartition(tp, for: b).epoch, 1)
    }

    func testCardStateIsKeptPerPartition() throws {
        let p1 = TopicPartition(topic: "transactions", partition: 1)
        let s = store()
        let r0 = try s.claimPartition(tp, for: a)
        let r1 = try s.claimPartition(p1, for: a)
        func update(_ tp: TopicPartition, _ r: PartitionRecord) -> PartitionUpdate {
            PartitionUpdate(partition: tp, expected: r, updated: PartitionRecord(applied: 0, maxEventMs: 1, epoch: r.epoch))
        }
        try s.write(
            partitions: [update(tp, r0), update(p1, r1)],
            cards: [(CardKey(partition: 0, cardId: "card-1"), [1, 2]), (CardKey(partition: 1, cardId: "card-1"), [3])],
            ttlMs: 60_000)
        let keys = RedisKeys(prefix: "vigil")
        XCTAssertEqual(try get(keys.cardKeyPrefix(partition: 0) + "card-1"), .bulk([1, 2]))
        XCTAssertEqual(try get(keys.cardKeyPrefix(partition: 1) + "card-1"), .bulk([3]))
        XCTAssertEqual(keys.cardKeyPrefix(partition: 1), "vigil:{\(PartitionTag.tag(1))}:card:")
        XCTAssertEqual(try get("vigil:card:card-1"), .null)
        let card = Array("card-1".utf8)
        let pending = try s.startLoad(cards: [(1, card), (0, card), (2, card), (0, card)], verifying: [])
        XCTAssertEqual(try s.finishLoad(pending), [[3], [1, 2], nil, [1, 2]])

        // The merchant lookup joins a load already sent: one read of every reply, cards first, then the HMGET's.
        try RedisConnection(host: redis.host, port: redis.port).send("HSET", "vigil:mrisk:v1", "", "9,9,9,0,0,0", "m-2", "1,2,3,0,0,1")
        var withMerchants = try s.startLoad(cards: [(0, card), (2, card)], verifying: [])
        try s.addMerchantLookup(to: &withMerchants, hashKey: "vigil:mrisk:v1", fields: [[], Array("m-1".utf8), Array("m-2".utf8)])
        let loaded = try s.finishLoadWithMerchants(withMerchants)
        XCTAssertEqual(loaded.blobs, [[1, 2], nil])
        XCTAssertEqual(loaded.merchants, .array([.bulk(Array("9,9,9,0,0,0".utf8)), .null, .bulk(Array("1,2,3,0,0,1".utf8))]))
        // Alone (a batch without cards to load), and the connection is usable afterwards.
        var alone = try s.startLoad(cards: [], verifying: [])
        try s.addMerchantLookup(to: &alone, hashKey: "vigil:mrisk:gone", fields: [[]])
        XCTAssertEqual(try s.finishLoadWithMerchants(alone).merchants, .array([.null]))
        XCTAssertEqual(try s.finishLoad(s.startLoad(cards: [(1, card)], verifying: [])), [[3]])
    }

    /// A busy card's log is a Redis list of the chunks each batch appended, read back joined; a rewrite replaces it
    /// with one chunk; a log still stored as one string (written before logs were lists) is read, and becomes a list
    /// on its next append. Its memory is about its length (a string grown by APPEND took up to twice that).
    func testCardLogsAreListsOfAppendedChunks() throws {
        let s = store()
        var record = try s.claimPartition(tp, for: a)
        var applied: Int64 = 0
        func write(_ writes: [(card: CardKey, write: CardStateWrite)]) throws {
            let updated = PartitionRecord(applied: applied, maxEventMs: 1, epoch: record.epoch)
            try s.write(partitions: [PartitionUpdate(partition: tp, expected: record, updated: updated)], writes: writes, ttlMs: 60_000)
            record = updated
            applied += 1
        }
        let busy = CardKey(partition: 0, cardId: "card-busy"), old = CardKey(partition: 0, cardId: "card-old")
        let chunk = [UInt8](repeating: 7, count: 182)
        try write([(busy, CardStateWrite(value: [4], log: .replace([1, 2, 3])))])
        for i in 0..<95 { try write([(busy, CardStateWrite(value: [4], log: .append(chunk.map { $0 &+ UInt8(i) })))]) }
        let expected: [UInt8] = [1, 2, 3] + (0..<95).flatMap { i in chunk.map { $0 &+ UInt8(i) } }
        let ids: [(partition: Int32, idBytes: [UInt8])] = [(0, Array("card-busy".utf8)), (0, Array("card-none".utf8))]
        XCTAssertEqual(try s.loadLogs(ids), [expected, nil])
        let redisConnection = try RedisConnection(host: redis.host, port: redis.port)
        let logKey = RedisKeys(prefix: "vigil").logKeyPrefix(partition: 0) + "card-busy"
        XCTAssertEqual(try redisConnection.send("TYPE", logKey), .status("list"))
        let usage = try XCTUnwrap(try redisConnection.send("MEMORY", "USAGE", logKey).int)
        XCTAssertLessThan(Double(usage), Double(expected.count) * 1.15, "about its length: no string preallocation")
        XCTAssertGreaterThan(try XCTUnwrap(try redisConnection.send("PTTL", logKey).int), 0)

        try write([(busy, CardStateWrite(value: [4], log: .replace([9, 9])))])
        XCTAssertEqual(try s.loadLogs(ids), [[9, 9], nil])
        XCTAssertEqual(try redisConnection.send("LLEN", logKey), .integer(1))

        // A log written as a string by an earlier build.
        let oldKey = RedisKeys(prefix: "vigil").logKeyPrefix(partition: 0) + "card-old"
        _ = try redisConnection.send("SET", oldKey, "abc")
        let oldId: [(partition: Int32, idBytes: [UInt8])] = [(0, Array("card-old".utf8)), (0, Array("card-busy".utf8))]
        XCTAssertEqual(try s.loadLogs(oldId), [Array("abc".utf8), [9, 9]])
        try write([(old, CardStateWrite(value: [4], log: .append(Array("de".utf8))))])
        XCTAssertEqual(try redisConnection.send("TYPE", oldKey), .status("list"))
        XCTAssertEqual(try s.loadLogs(oldId), [Array("abcde".utf8), [9, 9]])

        try write([(busy, CardStateWrite(value: [1], log: .delete))])
        XCTAssertEqual(try redisConnection.send("EXISTS", logKey), .integer(0))
    }
}

/// `RoutingWatch`: counts and rate-limited warnings, without I/O.
final class RoutingWatchTests: XCTestCase {
    func testWarnsAtMostOncePerMinutePerPartition() {
        var watch = RoutingWatch(check: PartitionerCheck(mode: .crc32, partitionCount: 4))
        var misplaced: [KafkaMessage] = []
        var placed: [KafkaMessage] = []
        for i in 0..<200 {
            let key = Array("card-\(i)".utf8)
            let p = Partitioner.crc32.partition(of: key, partitionCount: 4)
            placed.append(KafkaMessage(topic: "t", partition: p, offset: Int64(i), key: key, value: []))
            misplaced.append(KafkaMessage(topic: "t", partition: (p + 1) % 4, offset: Int64(i), key: key, value: []))
        }
        XCTAssertEqual(watch.observe(placed, nowMs: 0).misrouted, 0)
        let first = watch.observe(misplaced, nowMs: 1000)
        XCTAssertEqual(first.misrouted, 200)
        XCTAssertEqual(Set(first.warnings.map(\.partition)), [0, 1, 2, 3], "one warning per partition")
        XCTAssertEqual(first.warnings.count, 4)
        XCTAssertTrue(first.warnings.allSatisfy { $0.records == 1 && $0.partitioner == .crc32 && $0.expected == ($0.partition + 3) % 4 })
        XCTAssertEqual(watch.observe(misplaced, nowMs: 60_999).warnings, [], "within the minute")
        let later = watch.observe(misplaced, nowMs: 61_000)
        XCTAssertEqual(later.warnings.count, 4)
        // Each partition's warning counts its records since the previous warning: the rest of the first batch (196
        // after the four warned about), all of the second, and its first of this one.
        XCTAssertEqual(later.warnings.map(\.records).reduce(0, +), 196 + 200 + 4)
    }

    func testNoneChecksNothingAndConfigureKeepsTheMode() {
        var watch = RoutingWatch(check: PartitionerCheck(mode: .none))
        let m = KafkaMessage(topic: "t", partition: 3, offset: 0, key: Array("card-1".utf8), value: [])
        XCTAssertEqual(watch.observe([m, m], nowMs: 0).misrouted, 0)
        watch.configure(mode: .murmur2, partitionCount: 4)
        let expected = Partitioner.murmur2.partition(of: m.key!, partitionCount: 4)
        XCTAssertEqual(watch.observe([m], nowMs: 0).misrouted, expected == 3 ? 0 : 1)
        watch.configure(mode: .murmur2, partitionCount: nil)
        XCTAssertEqual(watch.check.mode, .murmur2)
        XCTAssertEqual(watch.observe([m], nowMs: 0).misrouted, 0, "partition count unknown")
    }
}
