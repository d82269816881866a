import XCTest
import Redis

/// A test case with one redis-server for the whole class and a fresh connection per test.
class RedisServerTestCase: XCTestCase {
    nonisolated(unsafe) static var servers: [ObjectIdentifier: RedisServerProcess] = [:]
    nonisolated(unsafe) static var startErrors: [ObjectIdentifier: Error] = [:]

    /// Extra `redis-server` options for the class's server.
    class var serverArguments: [String] { [] }

    var server: RedisServerProcess!
    var connection: RedisConnection!

    override class func setUp() {
        super.setUp()
        do {
            servers[ObjectIdentifier(self)] = try RedisServerProcess.start(extraArguments: serverArguments)
        } catch {
            startErrors[ObjectIdentifier(self)] = error
        }
    }

    override class func tearDown() {
        servers.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        if let error = Self.startErrors[ObjectIdentifier(Self.self)] { throw error }
        server = try XCTUnwrap(Self.servers[ObjectIdentifier(Self.self)])
        connection = try RedisConnection(host: server.host, port: server.port)
        XCTAssertEqual(try connection.send("FLUSHALL"), .status("OK"))
    }

    override func tearDown() {
        connection?.close()
        connection = nil
        server = nil
        super.tearDown()
    }

    /// A counter from `INFO stats`.
    func stat(_ name: String) throws -> Int {
        let info = try XCTUnwrap(connection.send("INFO", "stats").string)
        let line = try XCTUnwrap(info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("\(name):") })
        return try XCTUnwrap(Int(line.dropFirst(name.count + 1)))
    }
}
