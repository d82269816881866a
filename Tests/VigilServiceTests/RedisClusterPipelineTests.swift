import Foundation
import Kafka
import Redis
import VigilCore
import VigilService
import XCTest

/// `vigil serve` on a Redis Cluster the test starts (3 masters, 3 replicas, `redis-cli --cluster create`), with real
/// processes: three instances sharing the partitions, a master killed mid-stream after its replica fell behind, so
/// the promoted replica has lost acknowledged writes. Every output must come out once and every feature exactly as
/// the contract defines it.
final class RedisClusterPipelineTests: XCTestCase {
    func testThreeInstancesOnARedisClusterLoseNothingWhenAMasterFailsOverWithLostWrites() throws {
        try failover(mode: .exactlyOnce, seed: 41)
    }

    func testAtLeastOnceOnARedisClusterRepeatsNothingWhenAMasterFailsOverWithLostWrites() throws {
        try failover(mode: .atLeastOnce, seed: 42)
    }

    func failover(mode: DeliveryMode, seed: UInt64) throws {
        let h = try Harness(partitions: 6)
        h.config.mode = mode
        let cluster = try RedisClusterProcess.start(masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000)
        defer { cluster.stop() }
        h.useCluster(cluster)
        h.config.batchSize = 100
        let input = traffic(count: 9000, seed: seed)
        try h.publish(Array(input[..<3000]))
        let instances = try (0..<3).map { try VigilProcess(h, name: "cluster-\($0)") }
        defer { for vigil in instances { _ = vigil.terminate() } }
        XCTAssertTrue(h.waitForApplied(1500), "no progress on the cluster: \(instances[0].log.suffix(3000))")
        // The failover alone: the group has settled on three members first (instances that start together join in
        // several rebalances on the mock).
        XCTAssertTrue(waitUntil(timeout: 90) { Self.settled(instances, partitions: Int(h.partitions)) }, "the group settled")
        Thread.sleep(forTimeInterval: 1)
        XCTAssertTrue(Self.settled(instances, partitions: Int(h.partitions)))

        // The master of partition 0's slot, and its replica, which is frozen so that what the master acknowledges
        // from now on never reaches it.
        let slot = PartitionTag.targetSlot(0)
        let master = try cluster.master(ofSlot: slot)
        let replica = try XCTUnwrap(try cluster.replicas(of: master).first)
        // Frozen, and cut off: what the master sent before is in the replica's socket buffer (it reads that on
        // waking), what it acknowledges from now on only reaches its backlog, and dies with it.
        replica.send(signal: SIGSTOP)
        let admin = try RedisConnection(host: master.host, port: master.port)
        XCTAssertEqual(try admin.send("CLIENT", "KILL", "TYPE", "replica").int, 1, "the replica's link was cut")
        admin.close()
        try h.publish(Array(input[3000..<6000]))
        let tp = TopicPartition(topic: h.config.topics.transactions, partition: 0)
        let before = try h.partitionRecord(tp, on: master)
        // Vigil writes partition 0 on the master while its replica is frozen.
        XCTAssertTrue(waitUntil(timeout: 30) { ((try? h.partitionRecord(tp, on: master))?.applied ?? -1) > (before.applied ?? -1) })
        Thread.sleep(forTimeInterval: 0.5)
        let acknowledged = try h.partitionRecord(tp, on: master)
        master.kill()
        replica.send(signal: SIGCONT)
        let promoted = replica
        XCTAssertTrue(waitUntil(timeout: 30) {
            guard let c = try? RedisConnection(host: replica.host, port: replica.port) else { return false }
            defer { c.close() }
            return (try? c.send("ROLE"))?.array?.first?.string == "master"
                && ((try? c.send("CLUSTER", "INFO"))?.string ?? "").contains("cluster_state:ok")
        }, "the replica was promoted")
        let survived = try h.partitionRecord(tp, on: promoted)
        XCTAssertLessThan(
            survived.applied ?? -1, acknowledged.applied ?? -1,
            "the promoted replica lost acknowledged writes (applied \(String(describing: survived.applied)) < \(String(describing: acknowledged.applied)))")

        try h.publish(Array(input[6000...]))
        XCTAssertTrue(
            h.waitForApplied(input.count, timeout: 180),
            "did not finish after the failover: \(instances.map { $0.log.suffix(2000) })")
        let logs = instances.map(\.log)
        XCTAssertTrue(
            logs.contains { $0.contains("redis lost this partition's recent state, rebuilding it from the log") },
            "an instance noticed the lost writes and rebuilt from the log")
        XCTAssertEqual(instances.filter { $0.log.contains("partitions assigned") }.count, 3, "three instances shared the partitions")
        for vigil in instances { XCTAssertNotNil(vigil.terminate()) }
        try checkOutputs(h)
    }
}

extension RedisClusterPipelineTests {
    /// Every instance's latest assignment (after its latest revocation) is non-empty, and together they hold each
    /// partition once.
    static func settled(_ instances: [VigilProcess], partitions: Int) -> Bool {
        var held: [String] = []
        for vigil in instances {
            let lines = vigil.log.split(separator: "\n")
            guard let assigned = lines.lastIndex(where: { $0.contains("partitions assigned") }) else { return false }
            if let revoked = lines.lastIndex(where: { $0.contains("partitions revoked") }), revoked > assigned { return false }
            let line = lines[assigned]
            guard let start = line.range(of: "partitions=")?.upperBound else { return false }
            let list = line[start...].prefix { $0 != " " }
            held += list.split(separator: ",").map(String.init)
        }
        return held.count == partitions && Set(held).count == partitions
    }
}

extension Harness {
    /// Points Vigil at `cluster` instead of the standalone Redis.
    func useCluster(_ cluster: RedisClusterProcess) {
        let seed = cluster.seed
        config.redisHost = seed.host
        config.redisPort = seed.port
        config.redisCluster = true
        config.redisOtherSeeds = seed.otherSeeds
        config.redisCredentials = seed.credentials
    }

    /// The record of `tp` as one node holds it (a replica answers reads of its own copy with READONLY).
    func partitionRecord(_ tp: TopicPartition, on node: RedisServerProcess) throws -> PartitionRecord {
        let connection = try RedisConnection(host: node.host, port: node.port)
        defer { connection.close() }
        _ = try connection.send("READONLY")
        let key = RedisKeys(prefix: config.redisPrefix).partition(topic: tp.topic, partition: tp.partition)
        let fields = try connection.send("HMGET", key, "applied", "max_event_ms", "epoch").array ?? []
        func int(_ i: Int) -> Int64? { fields.count > i ? fields[i].string.flatMap { Int64($0) } : nil }
        return PartitionRecord(applied: int(0), maxEventMs: int(1), epoch: int(2))
    }
}
