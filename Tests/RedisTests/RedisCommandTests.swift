import XCTest
@testable import Redis

final class RedisCommandTests: XCTestCase {
    private func arguments(_ command: RedisCommand) -> [[UInt8]] {
        (0..<command.count).map { Array(command.argument($0)) }
    }

    func testArgumentsShareOneBuffer() {
        var command = RedisCommand("SET")
        command.append("key")
        command.append([0, 1, 0])
        command.append("")
        [UInt8](arrayLiteral: 9, 9).withUnsafeBytes { command.append($0) }
        XCTAssertEqual(command.count, 5)
        XCTAssertEqual(arguments(command), [Array("SET".utf8), Array("key".utf8), [0, 1, 0], [], [9, 9]])
        XCTAssertEqual(command.storage.count, 3 + 3 + 3 + 0 + 2)
        XCTAssertEqual(command.name, "SET")
    }

    func testIntegersAreDecimalText() {
        var command = RedisCommand("X")
        for n: Int64 in [0, 7, -7, 1234567890, .max, .min] { command.append(n) }
        command.append(42 as Int)
        let texts = arguments(command).dropFirst().map { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(texts, ["0", "7", "-7", "1234567890", "9223372036854775807", "-9223372036854775808", "42"])
    }

    func testLiteralsAndParts() {
        let literal: RedisCommand = ["GET", "k"]
        XCTAssertEqual(literal, RedisCommand(["GET", "k"]))
        XCTAssertEqual(RedisCommand([]).count, 0)
    }

    func testEvalSHALayout() {
        let script = RedisScript("return 1")
        let command = RedisCommand(evalSHA: script, keys: [[1], [2]], args: [[3]])
        XCTAssertEqual(
            arguments(command),
            [Array("EVALSHA".utf8), Array(script.sha1.utf8), Array("2".utf8), [1], [2], [3]]
        )
    }

    func testReplyAccessors() {
        XCTAssertEqual(RedisReply.bulk(Array("12".utf8)).int, 12)
        XCTAssertEqual(RedisReply.bulk(Array("hé".utf8)).string, "hé")
        XCTAssertEqual(RedisReply.status("OK").string, "OK")
        XCTAssertNil(RedisReply.null.bytes)
        XCTAssertEqual(RedisReply.array([.null]).array, [.null])
        XCTAssertEqual(RedisReply.error("NOSCRIPT No matching script").errorCode, "NOSCRIPT")
        XCTAssertTrue(RedisReply.error("NOSCRIPT No matching script").isNoScript)
        XCTAssertFalse(RedisReply.error("ERR x").isNoScript)
        XCTAssertThrowsError(try RedisReply.error("ERR boom").checked()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .server)
        }
    }

    func testPrefixedArgumentIsOneArgument() {
        var command = RedisCommand("GET")
        let id: [UInt8] = [99, 0, 100]
        id.withUnsafeBytes { command.append(Array("vigil:card:".utf8), $0) }
        command.append("next")
        XCTAssertEqual(command.count, 3)
        XCTAssertEqual(Array(command.argument(1)), Array("vigil:card:".utf8) + [99, 0, 100])
        XCTAssertEqual(Array(command.argument(2)), Array("next".utf8))
    }
}
