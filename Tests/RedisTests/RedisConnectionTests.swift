import Foundation
import XCTest
import Redis

final class RedisConnectionTests: RedisServerTestCase {
    func testBinaryValuesRoundTrip() throws {
        let value: [UInt8] = [0, 1, 2, 0, 255, 13, 10, 0]
        let key: [UInt8] = [107, 0, 121]  // "k\0y"
        var set = RedisCommand("SET")
        set.append(key)
        set.append(value)
        XCTAssertEqual(try connection.send(set), .status("OK"))

        var get = RedisCommand("GET")
        get.append(key)
        XCTAssertEqual(try connection.send(get), .bulk(value))
        // The key with its NUL byte is distinct from its prefix.
        XCTAssertEqual(try connection.send("GET", "k"), .null)
    }

    func testOneMegabyteValue() throws {
        var generator = SystemRandomNumberGenerator()
        let value = (0..<1_048_576).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var set = RedisCommand("SET")
        set.append("big")
        set.append(value)
        XCTAssertEqual(try connection.send(set), .status("OK"))
        XCTAssertEqual(try connection.send("STRLEN", "big"), .integer(1_048_576))
        XCTAssertEqual(try connection.send("GET", "big").bytes, value)
    }

    func testEmptyValue() throws {
        XCTAssertEqual(try connection.send("SET", "e", ""), .status("OK"))
        XCTAssertEqual(try connection.send("GET", "e"), .bulk([]))
    }

    func testIntegersAndMissingKeys() throws {
        XCTAssertEqual(try connection.send("INCR", "n"), .integer(1))
        var incr = RedisCommand("INCRBY")
        incr.append("n")
        incr.append(Int64(-43))
        XCTAssertEqual(try connection.send(incr), .integer(-42))
        XCTAssertEqual(try connection.send("GET", "n").int, -42)
        XCTAssertEqual(try connection.send("GET", "missing"), .null)
        XCTAssertEqual(try connection.send("HGETALL", "missing"), .array([]))
    }

    func testArrays() throws {
        XCTAssertEqual(try connection.send("RPUSH", "l", "a", "b", "c"), .integer(3))
        XCTAssertEqual(try connection.send("LRANGE", "l", "0", "-1"), .array([.bulk([97]), .bulk([98]), .bulk([99])]))
        XCTAssertEqual(try connection.send("MGET", "l-missing", "l-missing-2"), .array([.null, .null]))
    }

    func testErrorRepliesAreValuesAndKeepTheConnection() throws {
        let reply = try connection.send("NOSUCHCOMMAND", "x")
        XCTAssertEqual(reply.errorCode, "ERR")
        XCTAssertTrue(reply.errorMessage?.contains("unknown command") ?? false, "\(reply)")
        XCTAssertEqual(try connection.send("SET", "s", "text"), .status("OK"))
        XCTAssertEqual(try connection.send("INCR", "s").errorCode, "ERR")
        XCTAssertEqual(try connection.send("LPUSH", "s", "x").errorCode, "WRONGTYPE")
        XCTAssertFalse(connection.isBroken)
        XCTAssertEqual(try connection.send("PING"), .status("PONG"))
    }

    func testEmptyCommandIsRejectedWithoutBreaking() throws {
        XCTAssertThrowsError(try connection.send(RedisCommand([]))) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .protocolError)
        }
        XCTAssertFalse(connection.isBroken)
        XCTAssertEqual(try connection.send("PING"), .status("PONG"))
    }

    func testPipelineOfTenThousandInOneRoundTrip() throws {
        let readsBefore = try stat("total_reads_processed")
        var commands: [RedisCommand] = []
        commands.reserveCapacity(10_000)
        for i in 0..<10_000 {
            var command = RedisCommand("INCRBY")
            command.append("counter")
            command.append(Int64(i))
            commands.append(command)
        }
        let replies = try connection.pipeline(commands)
        XCTAssertEqual(replies.count, 10_000)
        var sum: Int64 = 0
        for (i, reply) in replies.enumerated() {
            sum += Int64(i)
            XCTAssertEqual(reply, .integer(sum), "reply \(i)")
            if reply != .integer(sum) { break }
        }
        // Sent one by one, the server would see at least 10,000 reads; pipelined, the requests arrive in a
        // few large socket reads (plus the INFO calls).
        let reads = try stat("total_reads_processed") - readsBefore
        XCTAssertLessThan(reads, 1_000, "server read events for a 10,000-command pipeline")
    }

    func testStartedPipelineRunsBeforeItsRepliesAreRead() throws {
        var set = RedisCommand("SET")
        set.append("started")
        set.append([7, 0, 7])
        let pending = try connection.startPipeline([set, ["INCR", "started-count"], ["GET", "started"]])
        // Another client sees the writes before this one has read a single reply: the commands were sent.
        let other = try RedisConnection(host: server.host, port: server.port)
        var seen: RedisReply = .null
        for _ in 0..<200 where seen == .null {
            seen = try other.send("GET", "started")
            if seen == .null { Thread.sleep(forTimeInterval: 0.005) }
        }
        XCTAssertEqual(seen, .bulk([7, 0, 7]))
        XCTAssertEqual(try connection.finishPipeline(pending), [.status("OK"), .integer(1), .bulk([7, 0, 7])])
        // The connection is in step again.
        XCTAssertEqual(try connection.send("GET", "started-count"), .bulk(Array("1".utf8)))
    }

    func testPipelineCarriesPerCommandErrors() throws {
        let replies = try connection.pipeline([
            ["SET", "p", "notanumber"],
            ["INCR", "p"],
            ["GET", "p"],
            ["GET", "nothing"],
        ])
        XCTAssertEqual(replies.count, 4)
        XCTAssertEqual(replies[0], .status("OK"))
        XCTAssertEqual(replies[1].errorCode, "ERR")
        XCTAssertEqual(replies[2], .bulk(Array("notanumber".utf8)))
        XCTAssertEqual(replies[3], .null)
        XCTAssertEqual(try connection.pipeline([]), [])
    }

    func testConnectToClosedPortFailsPromptlyNamingTheEndpoint() throws {
        // The server's port with the server gone is known to be closed; a random port might not be.
        let other = try RedisServerProcess.start()
        let port = other.port
        other.stop()
        let started = Date()
        XCTAssertThrowsError(try RedisConnection(host: "127.0.0.1", port: port)) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .connect)
            XCTAssertTrue(error.message.contains("127.0.0.1:\(port)"), error.message)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
    }

    func testClosedConnectionThrowsUntilReconnected() throws {
        connection.close()
        XCTAssertTrue(connection.isClosed)
        XCTAssertFalse(connection.isBroken)
        XCTAssertThrowsError(try connection.send("PING")) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .io)
        }
        try connection.reconnect()
        XCTAssertEqual(try connection.send("PING"), .status("PONG"))
    }
}
