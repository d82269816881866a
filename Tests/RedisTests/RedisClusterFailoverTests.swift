import Foundation
import XCTest
import Redis

/// A master killed with SIGKILL: per-node failures, recovery through the slot map once its replica is promoted,
/// scripts loaded on the promoted node, and the killed node rejoining. One cluster, one scenario (each step needs the
/// previous one's state, and a failover takes seconds).
final class RedisClusterFailoverTests: RedisClusterTestCase {
    func testMasterKilledThenReplicaPromotedThenNodeRestarted() throws {
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        let keys = try keysOnEveryMaster()
        try client.load(script)
        func incr(_ key: String) -> RedisCommand { RedisCommand(evalSHA: script, keys: [Array(key.utf8)], args: [[49]]) }
        XCTAssertEqual(try client.pipeline(keys.map(incr)), [.integer(1), .integer(1), .integer(1)])

        let victimKey = keys[0]
        let victimAddress = try XCTUnwrap(client.master(ofSlot: RedisSlot.slot(ofKey: victimKey)))
        let victim = try node(at: victimAddress)
        let replicas = try cluster.replicas(of: victim)
        XCTAssertEqual(replicas.count, 1)
        // Make sure the replica has the write before the crash, so the promoted node holds it.
        let direct = try cluster.connection(to: victim)
        XCTAssertEqual(try direct.send("WAIT", "1", "2000"), .integer(1))
        XCTAssertEqual(try cluster.connection(to: replicas[0]).send("SCRIPT", "EXISTS", script.sha1), .array([.integer(0)]),
                       "scripts are not replicated")

        victim.kill()

        // The victim's commands fail with its connection error; the other masters' commands are answered.
        let results = try client.pipelineEach(keys.map(incr) + [["GET", keys[1]], ["GET", victimKey]])
        XCTAssertEqual(results.count, 5)
        for (index, result) in results.enumerated() {
            let onVictim = index == 0 || index == 4
            switch result {
            case .success(let reply):
                XCTAssertFalse(onVictim, "command \(index) on the killed master answered \(reply)")
                if index == 1 || index == 2 { XCTAssertEqual(reply, .integer(2)) }
                if index == 3 { XCTAssertEqual(reply.int, 2) }
            case .failure(let error):
                XCTAssertTrue(onVictim, "command \(index) failed: \(error)")
                XCTAssertTrue([.io, .eof, .connect].contains(error.kind), "\(error)")
            }
        }
        XCTAssertFalse(client.isBroken)
        // pipeline throws the failed node's error, kind preserved.
        XCTAssertThrowsError(try client.pipeline([["GET", keys[1]], ["GET", victimKey]])) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .connect, "\(error)")
        }
        // The other masters keep answering while the failover runs.
        XCTAssertEqual(try client.send("GET", keys[2]).int, 2)

        let promoted = try cluster.waitForPromotion(of: replicas)
        XCTAssertEqual(promoted.port, replicas[0].port)

        // The same client finds the promoted master by reading the map again (the first call may still meet a node
        // that has not heard of the promotion), and loads the script there when it answers NOSCRIPT.
        let deadline = Date().addingTimeInterval(10)
        while (try? client.send("GET", victimKey)) == nil && Date() < deadline { usleep(100_000) }
        XCTAssertEqual(try client.send("GET", victimKey).int, 1, "the write acknowledged by WAIT survives")
        XCTAssertEqual(try client.pipeline(keys.map(incr)), [.integer(2), .integer(3), .integer(3)])
        XCTAssertEqual(client.master(ofSlot: RedisSlot.slot(ofKey: victimKey))?.port, promoted.port)
        XCTAssertEqual(try cluster.connection(to: promoted).send("SCRIPT", "EXISTS", script.sha1), .array([.integer(1)]))

        // eval() also loads where needed: flush the promoted node's cache and run a script through eval.
        _ = try cluster.connection(to: promoted).send("SCRIPT", "FLUSH")
        XCTAssertEqual(try client.eval(script, keys: [Array(victimKey.utf8)], args: [[53]]), .integer(7))

        // The killed node comes back as a replica of the promoted one; everything keeps working, and a new
        // client (the owner re-creating it) works too.
        try cluster.restart(victim)
        // The replica may report its link up a moment before its master lists it (ROLE on the master).
        let attachDeadline = Date().addingTimeInterval(10)
        while (try? cluster.replicas(of: promoted).map(\.port)) != [victim.port] && Date() < attachDeadline { usleep(50_000) }
        XCTAssertEqual(try cluster.replicas(of: promoted).map(\.port), [victim.port])
        XCTAssertEqual(try client.pipeline(keys.map { ["GET", $0] }).map(\.int), [7, 3, 3])
        let fresh = try RedisClusterClient(seed: cluster.seed)
        defer { fresh.close() }
        XCTAssertEqual(try fresh.send("GET", victimKey).int, 7)
        XCTAssertEqual(Set(fresh.masters.map(\.port)), Set(try cluster.masters().map(\.port)))
    }
}
