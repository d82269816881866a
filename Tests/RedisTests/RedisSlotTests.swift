import XCTest
@testable import Redis

/// Key hashing, slot-map parsing, redirections and key positions: pure values, no server.
final class RedisSlotTests: XCTestCase {
    func testCRC16XModemVector() {
        XCTAssertEqual(RedisSlot.crc16(Array("123456789".utf8)), 0x31C3)
        XCTAssertEqual(RedisSlot.crc16([UInt8]()), 0)
    }

    func testSlotsOfDocumentedKeys() {
        // From the CLUSTER KEYSLOT documentation.
        XCTAssertEqual(RedisSlot.slot(ofKey: "somekey"), 11058)
        XCTAssertEqual(RedisSlot.slot(ofKey: "foo{hash_tag}"), 2515)
        XCTAssertEqual(RedisSlot.slot(ofKey: "bar{hash_tag}"), 2515)
        XCTAssertEqual(RedisSlot.slot(ofKey: "{user1}.following"), 8106)
        XCTAssertEqual(RedisSlot.slot(ofKey: Array("123456789".utf8)), 0x31C3 & 0x3FFF)
    }

    func testHashTagRules() {
        func tag(_ key: String) -> String? {
            RedisSlot.hashTag(of: Array(key.utf8)).map { String(decoding: $0, as: UTF8.self) }
        }
        XCTAssertEqual(tag("{user1000}.following"), "user1000")
        XCTAssertEqual(tag("foo{bar}{zap}"), "bar")  // the first { and the first } after it
        XCTAssertEqual(tag("foo{{bar}}zap"), "{bar")
        XCTAssertNil(tag("foo{}{bar}"))  // empty tag: the whole key is hashed
        XCTAssertNil(tag("{}key"))
        XCTAssertNil(tag("foo{bar"))  // no closing brace
        XCTAssertNil(tag("foo}bar{"))
        XCTAssertNil(tag("plain"))
        XCTAssertEqual(RedisSlot.slot(ofKey: "foo{}{bar}"), Int(RedisSlot.crc16(Array("foo{}{bar}".utf8)) & 0x3FFF))
        XCTAssertEqual(RedisSlot.slot(ofKey: "a{p7}b"), RedisSlot.slot(ofKey: "p7"))
        // A slice of a larger buffer hashes like the same bytes on their own.
        let buffer = Array("xx{tag}yy".utf8)
        XCTAssertEqual(RedisSlot.slot(ofKey: buffer[2...]), RedisSlot.slot(ofKey: "tag"))
    }

    func testSlotMapFromClusterSlotsReply() throws {
        func node(_ host: RedisReply, _ port: Int64) -> RedisReply {
            .array([host, .integer(port), .bulk(Array("id".utf8)), .array([])])
        }
        let reply = RedisReply.array([
            .array([.integer(0), .integer(5460), node(.bulk(Array("10.0.0.1".utf8)), 7000), node(.bulk(Array("10.0.0.4".utf8)), 7003)]),
            .array([.integer(5461), .integer(10922), node(.null, 7001)]),  // unknown endpoint: the host asked
            .array([.integer(10923), .integer(16383), node(.bulk(Array("".utf8)), 7002), node(.bulk(Array("?".utf8)), 7005)]),
        ])
        let map = try XCTUnwrap(RedisClusterSlotMap(slotsReply: reply, answeringHost: "seed.local"))
        XCTAssertEqual(map.coveredSlots, RedisSlot.count)
        XCTAssertEqual(map.owner(ofSlot: 0), RedisAddress(host: "10.0.0.1", port: 7000))
        XCTAssertEqual(map.owner(ofSlot: 5460), RedisAddress(host: "10.0.0.1", port: 7000))
        XCTAssertEqual(map.owner(ofSlot: 5461), RedisAddress(host: "seed.local", port: 7001))
        XCTAssertEqual(map.owner(ofSlot: 16383), RedisAddress(host: "seed.local", port: 7002))
        XCTAssertEqual(map.masters.count, 3)
        XCTAssertEqual(map.replicas, [RedisAddress(host: "10.0.0.4", port: 7003), RedisAddress(host: "seed.local", port: 7005)])

        var moved = map
        moved.assign(slot: 5461, to: RedisAddress(host: "10.0.0.9", port: 7009))
        XCTAssertEqual(moved.owner(ofSlot: 5461), RedisAddress(host: "10.0.0.9", port: 7009))
        XCTAssertEqual(moved.owner(ofSlot: 5462), RedisAddress(host: "seed.local", port: 7001))

        XCTAssertNil(RedisClusterSlotMap(slotsReply: .error("ERR This instance has cluster support disabled"), answeringHost: "h"))
        XCTAssertEqual(RedisClusterSlotMap(slotsReply: .array([]), answeringHost: "h")?.coveredSlots, 0)
    }

    func testRedirectionsFromErrorReplies() {
        XCTAssertEqual(
            RedisClusterRedirect(.error("MOVED 3999 127.0.0.1:6381"), answeringHost: "x"),
            .moved(slot: 3999, to: RedisAddress(host: "127.0.0.1", port: 6381)))
        XCTAssertEqual(
            RedisClusterRedirect(.error("ASK 3999 10.1.2.3:7000"), answeringHost: "x"),
            .ask(slot: 3999, to: RedisAddress(host: "10.1.2.3", port: 7000)))
        XCTAssertEqual(
            RedisClusterRedirect(.error("MOVED 12 :6380"), answeringHost: "node-a"),
            .moved(slot: 12, to: RedisAddress(host: "node-a", port: 6380)))
        XCTAssertEqual(
            RedisClusterRedirect(.error("MOVED 12 ::1:6380"), answeringHost: "x"),
            .moved(slot: 12, to: RedisAddress(host: "::1", port: 6380)))
        XCTAssertEqual(
            RedisClusterRedirect(.error("TRYAGAIN Multiple keys request during rehashing of slot"), answeringHost: "x"),
            .tryAgain)
        XCTAssertNil(RedisClusterRedirect(.error("CLUSTERDOWN The cluster is down"), answeringHost: "x"))
        XCTAssertNil(RedisClusterRedirect(.error("MOVED nonsense"), answeringHost: "x"))
        XCTAssertNil(RedisClusterRedirect(.error("MOVED 99999 h:1"), answeringHost: "x"))
        XCTAssertNil(RedisClusterRedirect(.status("OK"), answeringHost: "x"))
    }

    func testKeyPositions() {
        XCTAssertEqual(RedisClusterKeys(of: ["GET", "k"]), .at(1))
        XCTAssertEqual(RedisClusterKeys(of: ["hincrby", "k", "f", "1"]), .at(1))
        XCTAssertEqual(RedisClusterKeys(of: ["PING"]), .none)
        XCTAssertEqual(RedisClusterKeys(of: ["CONFIG", "GET", "maxmemory"]), .none)
        XCTAssertEqual(RedisClusterKeys(of: ["SCRIPT", "LOAD", "return 1"]), .none)
        XCTAssertEqual(RedisClusterKeys(of: ["MGET", "a", "b"]).indices(count: 3), [1, 2])
        XCTAssertEqual(RedisClusterKeys(of: ["MSET", "a", "1", "b", "2"]).indices(count: 5), [1, 3])
        XCTAssertEqual(RedisClusterKeys(of: ["EVALSHA", "abc", "2", "k1", "k2", "arg"]).indices(count: 6), [3, 4])
        XCTAssertEqual(RedisClusterKeys(of: ["EVAL", "return 1", "0", "arg"]), .none)
        XCTAssertEqual(RedisClusterKeys(of: ["BLPOP", "a", "b", "0"]).indices(count: 4), [1, 2])
        XCTAssertEqual(RedisClusterKeys(of: ["XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"]).indices(count: 8), [4, 5])
        XCTAssertEqual(RedisClusterKeys(of: ["MULTI"]), .unsupported)
    }

    func testCrossSlotCommandsAreRefused() throws {
        XCTAssertEqual(try RedisCommand(["MGET", "{t}a", "{t}b"]).clusterSlot(), RedisSlot.slot(ofKey: "t"))
        XCTAssertNil(try RedisCommand(["EVALSHA", "abc", "0"]).clusterSlot())
        XCTAssertThrowsError(try RedisCommand(["MGET", "a", "b"]).clusterSlot()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .protocolError)
            XCTAssertTrue("\(error)".contains("hash tag"), "\(error)")
        }
        XCTAssertThrowsError(try RedisCommand(["EVALSHA", "abc", "2", "{a}1", "{b}1"]).clusterSlot())
        XCTAssertThrowsError(try RedisCommand(["WATCH", "k"]).clusterSlot())
    }
}
