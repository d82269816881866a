import Foundation
import XCTest
import Redis

/// Routing, pipelines, scripts and redirections against a real cluster of 3 masters and 3 replicas.
final class RedisClusterClientTests: RedisClusterTestCase {
    func testSlotsAgreeWithServerKeyslot() throws {
        let node = try cluster.connection(to: cluster.nodes[0])
        var keys = ["", "{", "}", "{}", "{}x", "a{b}c", "a{{b}}", "x}{y}", "{user1000}.following", "\u{e9}t\u{e9}"]
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("ab{}01:".utf8)
        for _ in 0..<200 {
            keys.append(String(decoding: (0..<Int.random(in: 1...12, using: &generator)).map { _ in alphabet.randomElement()! }, as: UTF8.self))
        }
        let replies = try node.pipeline(keys.map { ["CLUSTER", "KEYSLOT", $0] })
        for (key, reply) in zip(keys, replies) {
            XCTAssertEqual(reply.int.map(Int.init), RedisSlot.slot(ofKey: key), "key \(key)")
        }
    }

    func testGetSetAcrossSlotsLandOnTheOwningMaster() throws {
        XCTAssertEqual(client.masters.count, 3)
        for i in 0..<60 {
            XCTAssertEqual(try client.send("SET", "key:\(i)", "value \(i)"), .status("OK"))
        }
        var used: Set<Int> = []
        for i in 0..<60 {
            let key = "key:\(i)"
            XCTAssertEqual(try client.send("GET", key).string, "value \(i)")
            // The key is on the master the client chose, and nowhere else answers for it.
            let owner = try node(at: client.master(ofSlot: RedisSlot.slot(ofKey: key)))
            XCTAssertEqual(try cluster.connection(to: owner).send("GET", key).string, "value \(i)")
            used.insert(owner.port)
        }
        XCTAssertEqual(used.count, 3, "60 keys should spread over every master")
        XCTAssertEqual(try client.send("PING"), .status("PONG"))
        XCTAssertEqual(try client.send("HSET", "h", "f", "1"), .integer(1))
        XCTAssertEqual(try client.send("HINCRBY", "h", "f", "41"), .integer(42))
        XCTAssertEqual(try client.send("PEXPIRE", "h", "60000"), .integer(1))
        XCTAssertEqual(try client.send("DEL", "h"), .integer(1))
    }

    func testPipelineSpanningEveryMasterKeepsTheCallersOrder() throws {
        var commands: [RedisCommand] = []
        for i in 0..<300 {
            commands.append(i % 3 == 2 ? ["GET", "n:\(i - 1)"] : ["INCRBY", "n:\(i)", "\(i)"])
        }
        let replies = try client.pipeline(commands)
        XCTAssertEqual(replies.count, 300)
        for i in 0..<300 {
            XCTAssertEqual(replies[i].int, Int64(i % 3 == 2 ? i - 1 : i), "reply \(i)")
        }
        let masters = Set(commands.compactMap { command -> Int? in
            let key = String(decoding: command.argument(1), as: UTF8.self)
            return client.master(ofSlot: RedisSlot.slot(ofKey: key))?.port
        })
        XCTAssertEqual(masters.count, 3)
    }

    func testExtendPipelineAddsCommandsForOtherMasters() throws {
        let keys = try keysOnEveryMaster()
        XCTAssertEqual(keys.count, 3)
        var pending = try client.startPipeline([["SET", keys[0], "a"], ["GET", keys[0]]])
        pending = try client.extendPipeline(pending, with: [["SET", keys[1], "b"], ["SET", keys[2], "c"], ["PING"]])
        pending = try client.extendPipeline(pending, with: [["MGET", keys[2]], ["GET", keys[1]], ["GET", keys[0]]])
        let replies = try client.finishPipeline(pending)
        XCTAssertEqual(replies, [
            .status("OK"), .bulk(Array("a".utf8)), .status("OK"), .status("OK"), .status("PONG"),
            .array([.bulk(Array("c".utf8))]), .bulk(Array("b".utf8)), .bulk(Array("a".utf8)),
        ])
        XCTAssertEqual(try client.pipeline([]), [])
    }

    func testMultiKeyCommandsWithinOneTagAndCrossSlotRefusal() throws {
        XCTAssertEqual(try client.send("MSET", "{card:7}a", "1", "{card:7}b", "2"), .status("OK"))
        XCTAssertEqual(try client.send("MGET", "{card:7}a", "{card:7}b", "{card:7}c"), .array([.bulk([49]), .bulk([50]), .null]))
        XCTAssertEqual(try client.send("DEL", "{card:7}a", "{card:7}b"), .integer(2))

        // Refused before anything is sent: the SET in the same pipeline must not have run either.
        XCTAssertThrowsError(try client.pipeline([["SET", "solo", "1"], ["MGET", "a", "b"]])) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .protocolError)
        }
        XCTAssertThrowsError(try client.send("MSET", "x1", "1", "x2", "2"))
        XCTAssertFalse(client.isBroken)
        XCTAssertEqual(try client.send("GET", "solo"), .null)
        XCTAssertEqual(try client.send("EXISTS", "x1"), .integer(0))
    }

    func testScriptsRunOnTheirKeysMasterAndLoadEverywhere() throws {
        let script = RedisScript("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])")
        let keys = try keysOnEveryMaster()
        for key in keys {
            XCTAssertEqual(try client.eval(script, keys: [Array(key.utf8)], args: [Array("v".utf8)]), .bulk(Array("v".utf8)))
        }
        let keyless = RedisScript("return 7")
        XCTAssertEqual(try client.eval(keyless, keys: [], args: []), .integer(7))
        XCTAssertThrowsError(try client.eval(RedisScript("this is not lua"), keys: [], args: [])) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .script)
        }

        // load() puts the script on every master; pipelined EVALSHA then runs anywhere.
        let counter = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        try client.load(counter)
        for master in try cluster.masters() {
            XCTAssertEqual(try cluster.connection(to: master).send("SCRIPT", "EXISTS", counter.sha1), .array([.integer(1)]))
        }
        let commands = (0..<30).map { RedisCommand(evalSHA: counter, keys: [Array("c:\($0)".utf8)], args: [Array("\($0)".utf8)]) }
        XCTAssertEqual(try client.pipeline(commands), (0..<30).map { .integer(Int64($0)) })

        // A master that forgot the script (SCRIPT FLUSH) gets it loaded again within the pipeline.
        for master in try cluster.masters() { _ = try cluster.connection(to: master).send("SCRIPT", "FLUSH") }
        XCTAssertEqual(try client.pipeline(commands), (0..<30).map { .integer(Int64(2 * $0)) })
    }

    /// Moves one slot by hand, as `redis-cli --cluster reshard` does: IMPORTING on the target, MIGRATING on the
    /// source, MIGRATE of the keys, then SETSLOT NODE. Mid-way the client meets ASK (and TRYAGAIN for a multi-key
    /// command whose keys are split); after it, MOVED.
    func testAskDuringMigrationThenMovedAfterIt() throws {
        let slot = RedisSlot.slot(ofKey: "{mig}")
        let sourceAddress = try XCTUnwrap(client.master(ofSlot: slot))
        let source = try node(at: sourceAddress)
        let target = try XCTUnwrap(try cluster.masters().first { $0.port != source.port })
        let sourceConnection = try cluster.connection(to: source)
        let targetConnection = try cluster.connection(to: target)
        XCTAssertEqual(try client.send("SET", "{mig}a", "A"), .status("OK"))
        XCTAssertEqual(try client.send("SET", "{mig}b", "B"), .status("OK"))

        let sourceID = try cluster.nodeID(of: source)
        let targetID = try cluster.nodeID(of: target)
        XCTAssertEqual(try targetConnection.send("CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", sourceID), .status("OK"))
        XCTAssertEqual(try sourceConnection.send("CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", targetID), .status("OK"))
        XCTAssertEqual(
            try sourceConnection.send("MIGRATE", target.host, "\(target.port)", "", "0", "5000", "KEYS", "{mig}a"),
            .status("OK"))
        // The source now redirects for the moved key.
        XCTAssertEqual(try sourceConnection.send("GET", "{mig}a").errorCode, "ASK")

        XCTAssertEqual(try client.send("GET", "{mig}a").string, "A")  // ASK, ASKING, GET on the target
        XCTAssertEqual(try client.send("GET", "{mig}b").string, "B")  // still on the source
        XCTAssertEqual(client.master(ofSlot: slot), sourceAddress, "ASK must not change the map")
        // A new key in a migrating slot goes to the target.
        XCTAssertEqual(try client.send("SET", "{mig}c", "C"), .status("OK"))
        XCTAssertEqual(try sourceConnection.send("EXISTS", "{mig}c").errorCode, "ASK")
        XCTAssertEqual(try targetConnection.pipeline([["ASKING"], ["EXISTS", "{mig}c"]]), [.status("OK"), .integer(1)])
        // Keys split between the nodes: TRYAGAIN, retried a few times, then returned.
        let started = Date()
        XCTAssertEqual(try client.send("MGET", "{mig}a", "{mig}b").errorCode, "TRYAGAIN")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        // In a pipeline, the redirected replies come back in place.
        XCTAssertEqual(
            try client.pipeline([["GET", "{mig}b"], ["GET", "{mig}a"], ["PING"], ["GET", "{mig}c"]]),
            [.bulk(Array("B".utf8)), .bulk(Array("A".utf8)), .status("PONG"), .bulk(Array("C".utf8))])

        XCTAssertEqual(
            try sourceConnection.send("MIGRATE", target.host, "\(target.port)", "", "0", "5000", "KEYS", "{mig}b"),
            .status("OK"))
        for node in [target, source] + (try cluster.masters()).filter({ $0.port != target.port && $0.port != source.port }) {
            XCTAssertEqual(try cluster.connection(to: node).send("CLUSTER", "SETSLOT", "\(slot)", "NODE", targetID), .status("OK"))
        }
        XCTAssertEqual(try sourceConnection.send("GET", "{mig}b").errorCode, "MOVED")

        XCTAssertEqual(try client.send("GET", "{mig}b").string, "B")  // MOVED, resent to the target
        XCTAssertEqual(client.master(ofSlot: slot)?.port, target.port, "MOVED updates the map")
        XCTAssertEqual(try client.send("MGET", "{mig}a", "{mig}b", "{mig}c"), .array(["A", "B", "C"].map { .bulk(Array($0.utf8)) }))
        // A fresh client reads the new owner from the cluster.
        let fresh = try RedisClusterClient(seed: cluster.seed)
        defer { fresh.close() }
        XCTAssertEqual(fresh.master(ofSlot: slot)?.port, target.port)
    }

    func testClientFindsTheClusterThroughOtherSeeds() throws {
        var seed = cluster.seed
        seed.port = 1  // nothing listens there
        let viaOthers = try RedisClusterClient(seed: seed)
        defer { viaOthers.close() }
        XCTAssertEqual(try viaOthers.send("SET", "seeded", "1"), .status("OK"))
        seed.otherSeeds = []
        XCTAssertThrowsError(try RedisClusterClient(seed: seed)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .connect)
        }
        let opened = try cluster.seed.open()
        XCTAssertTrue(opened is RedisClusterClient)
        XCTAssertEqual(try opened.send("GET", "seeded"), .bulk(Array("1".utf8)))
        opened.close()
        XCTAssertThrowsError(try opened.send("PING"))
    }

    /// Prints pipelined throughput through the cluster client and through one connection to a standalone server,
    /// on this machine, in this run. Asserts nothing about speed.
    func testMeasurementPipelinedThroughputAgainstStandalone() throws {
        let standalone = try RedisServerProcess.start()
        defer { standalone.stop() }
        let single = try RedisConnection(host: standalone.host, port: standalone.port)
        defer { single.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        try client.load(script)
        try single.load(script)

        // Like a batch of Vigil: 64 script calls on keys of 16 partition tags, or 16 MGETs of 16 cards each.
        let evals = (0..<64).map { RedisCommand(evalSHA: script, keys: [Array("{p\($0 % 16)}:card:\($0)".utf8)], args: [[49]]) }
        let mgets = (0..<16).map { p in RedisCommand(["MGET"] + (0..<16).map { "{p\(p)}:card:\($0)" }) }
        func measure(_ name: String, _ redis: any RedisClient, _ commands: [RedisCommand]) throws -> Double {
            _ = try redis.pipeline(commands)
            var pipelines = 0
            let start = Date()
            while Date().timeIntervalSince(start) < 0.75 {
                _ = try redis.pipeline(commands)
                pipelines += 1
            }
            let seconds = Date().timeIntervalSince(start)
            let perSecond = Double(pipelines) / seconds
            print(String(
                format: "measurement: %@: %.0f pipelines/s of %d commands = %.0f commands/s, %.1f us per pipeline",
                name, perSecond, commands.count, perSecond * Double(commands.count), 1e6 / perSecond))
            return perSecond
        }
        let oneTag = (0..<64).map { RedisCommand(evalSHA: script, keys: [Array("{p0}:card:\($0)".utf8)], args: [[49]]) }
        _ = try measure("cluster EVALSHA x64, one tag (one node)", client, oneTag)
        // The same node without the cluster client: what the client itself costs, apart from the server's work.
        let tagNode = try cluster.connection(to: node(at: client.master(ofSlot: RedisSlot.slot(ofKey: "p0"))))
        defer { tagNode.close() }
        try tagNode.load(script)
        _ = try measure("one connection to that cluster node, EVALSHA x64", tagNode, oneTag)
        let oneTagMgets = (0..<16).map { p in RedisCommand(["MGET"] + (0..<16).map { "{p0}:card:\(p * 16 + $0)" }) }
        _ = try measure("cluster MGET 16x16, one tag (one node)", client, oneTagMgets)
        _ = try measure("one connection to that cluster node, MGET 16x16", tagNode, oneTagMgets)
        let clusterEval = try measure("cluster EVALSHA x64", client, evals)
        let singleEval = try measure("single EVALSHA x64", single, evals)
        let clusterMget = try measure("cluster MGET 16x16", client, mgets)
        let singleMget = try measure("single MGET 16x16", single, mgets)
        print(String(format: "measurement: cluster/single EVALSHA %.2f, MGET %.2f", clusterEval / singleEval, clusterMget / singleMget))
    }
}
