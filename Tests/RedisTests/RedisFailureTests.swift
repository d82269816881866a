import Foundation
import XCTest
import Redis

/// Crashes, restarts and timeouts; each test has its own server because it kills or stalls it.
final class RedisFailureTests: XCTestCase {
    func testKilledServerBreaksConnectionAndReconnectWorksAfterRestart() throws {
        let server = try RedisServerProcess.start()
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port)
        let pipelined = try RedisConnection(host: server.host, port: server.port)
        XCTAssertEqual(try connection.send("SET", "k", "v"), .status("OK"))

        server.kill()
        XCTAssertFalse(server.isRunning)
        XCTAssertThrowsError(try pipelined.pipeline(Array(repeating: ["INCR", "n"], count: 1_000))) { error in
            XCTAssertTrue([.io, .eof].contains((error as? RedisError)?.kind), "\(error)")
        }
        XCTAssertTrue(pipelined.isBroken)
        XCTAssertThrowsError(try connection.send("GET", "k")) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertTrue([.io, .eof].contains(error.kind), "\(error)")
            XCTAssertTrue(error.message.contains("127.0.0.1:\(server.port)"), error.message)
        }
        XCTAssertTrue(connection.isBroken)
        // Broken connections fail fast without touching the network.
        XCTAssertThrowsError(try connection.pipeline([["PING"]]))
        XCTAssertThrowsError(try connection.reconnect()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .connect)
        }
        XCTAssertTrue(connection.isBroken)

        try server.restart(keepData: false)
        XCTAssertTrue(server.isRunning)
        try connection.reconnect()
        XCTAssertFalse(connection.isBroken)
        XCTAssertEqual(try connection.send("PING"), .status("PONG"))
        XCTAssertEqual(try connection.send("GET", "k"), .null)
    }

    func testPersistenceSurvivesKillAndWipeLosesData() throws {
        let server = try RedisServerProcess.start(persistence: true)
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port)
        XCTAssertEqual(try connection.send("SET", "durable", "yes"), .status("OK"))
        XCTAssertEqual(try connection.send("INCR", "count"), .integer(1))

        server.kill()
        try server.restart(keepData: true)
        try connection.reconnect()
        XCTAssertEqual(try connection.send("GET", "durable"), .bulk(Array("yes".utf8)))
        XCTAssertEqual(try connection.send("GET", "count").int, 1)

        try server.restart(keepData: false)
        XCTAssertThrowsError(try connection.send("PING"))
        try connection.reconnect()
        XCTAssertEqual(try connection.send("GET", "durable"), .null)
    }

    func testScriptsReloadAfterServerRestart() throws {
        let server = try RedisServerProcess.start()
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port)
        let script = RedisScript("return ARGV[1]")
        XCTAssertEqual(try connection.eval(script, keys: [], args: [[7]]), .bulk([7]))
        try server.restart(keepData: false)
        try connection.reconnect()
        XCTAssertEqual(try connection.eval(script, keys: [], args: [[8]]), .bulk([8]))
    }

    func testCommandTimeout() throws {
        let server = try RedisServerProcess.start(extraArguments: ["--enable-debug-command", "local"])
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port, commandTimeoutMs: 200)
        let started = Date()
        XCTAssertThrowsError(try connection.send("DEBUG", "SLEEP", "1")) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .timeout, "\(error)")
            XCTAssertTrue(error.message.contains("200 ms"), error.message)
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 0.15)
        XCTAssertLessThan(elapsed, 0.9)
        XCTAssertTrue(connection.isBroken)
        // After a reconnect the late reply cannot be mistaken for a later command's. DEBUG SLEEP stalls the
        // whole server, so let it finish before the next command (which has only 200 ms too).
        try connection.reconnect()
        Thread.sleep(until: started.addingTimeInterval(1.1))
        XCTAssertEqual(try connection.send("ECHO", "after"), .bulk(Array("after".utf8)))
    }

    func testZeroCommandTimeoutWaitsForSlowReplies() throws {
        let server = try RedisServerProcess.start(extraArguments: ["--enable-debug-command", "local"])
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port, connectTimeoutMs: 100, commandTimeoutMs: 0)
        XCTAssertEqual(try connection.send("DEBUG", "SLEEP", "0.4"), .status("OK"))
        XCTAssertFalse(connection.isBroken)
    }
}
