import XCTest
import Redis

final class RedisScriptTests: RedisServerTestCase {
    /// Stores ARGV[1] under KEYS[1] and returns it with its length, to check binary safety both ways.
    let echo = RedisScript("""
        redis.call('SET', KEYS[1], ARGV[1])
        return {redis.call('GET', KEYS[1]), string.len(ARGV[1]), ARGV[2]}
        """)

    func testEvalWithBinaryKeysAndArgs() throws {
        let key: [UInt8] = [0, 99, 0]
        let value: [UInt8] = [0, 255, 10, 13, 0]
        let reply = try connection.eval(echo, keys: [key], args: [value, [1, 0, 2]])
        XCTAssertEqual(reply, .array([.bulk(value), .integer(5), .bulk([1, 0, 2])]))
        var get = RedisCommand("GET")
        get.append(key)
        XCTAssertEqual(try connection.send(get), .bulk(value))
    }

    func testEvalLoadsAgainAfterScriptFlush() throws {
        XCTAssertEqual(try connection.eval(echo, keys: [[1]], args: [[2], []]), .array([.bulk([2]), .integer(1), .bulk([])]))
        XCTAssertEqual(try connection.send("SCRIPT", "FLUSH"), .status("OK"))
        XCTAssertEqual(try connection.send("SCRIPT", "EXISTS", echo.sha1), .array([.integer(0)]))
        // Same connection: it believes the script is loaded, gets NOSCRIPT, loads and runs it.
        XCTAssertEqual(try connection.eval(echo, keys: [[1]], args: [[3], []]), .array([.bulk([3]), .integer(1), .bulk([])]))
        XCTAssertEqual(try connection.send("SCRIPT", "EXISTS", echo.sha1), .array([.integer(1)]))
    }

    func testPrebuiltEvalSHACommand() throws {
        let incr = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        var command = RedisCommand(evalSHA: incr, keyCount: 1)
        command.append("c")
        command.append(Int64(5))
        XCTAssertEqual(try connection.eval(incr, command: command), .integer(5))
        XCTAssertEqual(try connection.eval(incr, command: command), .integer(10))
    }

    func testLocalSHA1MatchesScriptLoad() throws {
        for source in ["return 1", echo.source, "return 'é ✓'", ""] {
            let script = RedisScript(source)
            XCTAssertEqual(try connection.send("SCRIPT", "LOAD", source), .bulk(Array(script.sha1.utf8)), source)
        }
    }

    func testRuntimeErrorsAreErrorReplies() throws {
        let failing = RedisScript("return redis.error_reply('CARD bad state')")
        XCTAssertEqual(try connection.eval(failing, keys: [], args: []), .error("CARD bad state"))
        let wrongType = RedisScript("return redis.call('INCR', KEYS[1])")
        XCTAssertEqual(try connection.send("SET", "t", "x"), .status("OK"))
        XCTAssertEqual(try connection.eval(wrongType, keys: [Array("t".utf8)], args: []).errorCode, "ERR")
        XCTAssertFalse(connection.isBroken)
    }

    func testCompileErrorThrowsScriptError() throws {
        let broken = RedisScript("return (")
        XCTAssertThrowsError(try connection.eval(broken, keys: [], args: [])) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .script)
            XCTAssertTrue(error.message.contains(broken.sha1), error.message)
        }
        XCTAssertFalse(connection.isBroken)
        XCTAssertThrowsError(try connection.load(broken))
    }

    func testPipelinedEvalSHASeesNoScriptUntilLoaded() throws {
        let script = RedisScript("return #ARGV")
        XCTAssertEqual(try connection.send("SCRIPT", "FLUSH"), .status("OK"))
        let command = RedisCommand(evalSHA: script, keys: [], args: [[1], [2]])
        XCTAssertTrue(try connection.pipeline([command])[0].isNoScript)
        try connection.load(script)
        XCTAssertEqual(try connection.pipeline([command, command]), [.integer(2), .integer(2)])
    }
}
