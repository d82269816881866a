import Foundation
import XCTest
import Redis

final class RedisServerProcessTests: XCTestCase {
    func testStartStopAndDirectory() throws {
        let server = try RedisServerProcess.start()
        XCTAssertEqual(server.host, "127.0.0.1")
        XCTAssertTrue(server.isRunning)
        XCTAssertTrue(FileManager.default.fileExists(atPath: server.dataDirectory))
        let connection = try RedisConnection(host: server.host, port: server.port)
        XCTAssertEqual(try connection.send("CONFIG", "GET", "save").array?.last, .bulk([]))
        XCTAssertEqual(try connection.send("CONFIG", "GET", "appendonly").array?.last, .bulk(Array("no".utf8)))
        server.stop()
        XCTAssertFalse(server.isRunning)
        server.stop()  // idempotent
    }

    func testTwoServersGetDifferentPorts() throws {
        let a = try RedisServerProcess.start()
        let b = try RedisServerProcess.start()
        XCTAssertNotEqual(a.port, b.port)
        XCTAssertNotEqual(a.dataDirectory, b.dataDirectory)
    }

    func testMissingBinaryIsAClearError() {
        XCTAssertThrowsError(try RedisServerProcess.start(executable: "/nonexistent/redis-server")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/redis-server"), "\(error)")
        }
    }

    func testServerThatFailsToStartReportsItsOutput() {
        XCTAssertThrowsError(try RedisServerProcess.start(extraArguments: ["--no-such-option", "1"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("exited"), text)
            XCTAssertTrue(text.contains("no-such-option"), text)
        }
    }
}
