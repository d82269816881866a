import Foundation
import XCTest
import Redis

/// Commands, pipelines, scripts and failures over TLS, against a real `redis-server --tls-port` with certificates the
/// test makes itself (``RedisTestCertificates``). One server and one CA for the class; tests that stop or stall the
/// server start their own.
final class RedisTLSTests: XCTestCase {
    nonisolated(unsafe) static var certificates: RedisTestCertificates?
    nonisolated(unsafe) static var server: RedisServerProcess?
    nonisolated(unsafe) static var setUpError: Error?

    var certificates: RedisTestCertificates!
    var server: RedisServerProcess!
    var connection: RedisConnection!

    override class func setUp() {
        super.setUp()
        do {
            let certificates = try RedisTestCertificates.make()
            Self.certificates = certificates
            Self.server = try RedisServerProcess.start(tls: certificates.serverTLS())
        } catch {
            setUpError = error
        }
    }

    override class func tearDown() {
        server?.stop()
        server = nil
        certificates?.remove()
        super.tearDown()
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        if let error = Self.setUpError { throw error }
        certificates = try XCTUnwrap(Self.certificates)
        server = try XCTUnwrap(Self.server)
        connection = try RedisConnection(endpoint: server.endpoint)
        XCTAssertEqual(try connection.send("FLUSHALL"), .status("OK"))
    }

    override func tearDown() {
        connection?.close()
        connection = nil
        super.tearDown()
    }

    func testServerRefusesPlainTCPAndConnectionIsTLS() throws {
        XCTAssertEqual(server.endpoint.description, "127.0.0.1:\(server.port) (tls)")
        let plain = try? RedisConnection(host: server.host, port: server.port, connectTimeoutMs: 500, commandTimeoutMs: 500)
        XCTAssertThrowsError(try XCTUnwrap(plain).send("PING"), "a plain client must not get an answer from the TLS port")
        XCTAssertEqual(try connection.send("PING"), .status("PONG"))
        let clients = try XCTUnwrap(connection.send("CLIENT", "INFO").string)
        XCTAssertTrue(clients.contains("flags=N"), clients)
    }

    func testCommandsAndLargeBinaryValues() throws {
        XCTAssertEqual(try connection.send("SET", "k", "v"), .status("OK"))
        XCTAssertEqual(try connection.send("GET", "k"), .bulk(Array("v".utf8)))
        // Larger than a TLS record (16 KiB) both ways, with every byte value.
        let large = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var set = RedisCommand("SET")
        set.append("large")
        set.append(large)
        XCTAssertEqual(try connection.send(set), .status("OK"))
        XCTAssertEqual(try connection.send("GET", "large"), .bulk(large))
        XCTAssertEqual(try connection.send("HSET", "h", "a", "1", "b", "2"), .integer(2))
        XCTAssertEqual(try connection.send("HMGET", "h", "a", "missing"), .array([.bulk(Array("1".utf8)), .null]))
        XCTAssertNotNil(try connection.send("NO-SUCH-COMMAND").errorMessage)
        XCTAssertFalse(connection.isBroken)
    }

    func testPipelinesInOrder() throws {
        let sets = (0..<10_000).map { RedisCommand(["SET", "key:\($0)", "value:\($0)"]) }
        let replies = try connection.pipeline(sets)
        XCTAssertEqual(replies.count, 10_000)
        XCTAssertTrue(replies.allSatisfy { $0 == .status("OK") })
        let gets = (0..<10_000).map { RedisCommand(["GET", "key:\($0)"]) }
        let values = try connection.pipeline(gets)
        XCTAssertEqual(values[0], .bulk(Array("value:0".utf8)))
        XCTAssertEqual(values[9_999], .bulk(Array("value:9999".utf8)))

        let pending = try connection.startPipeline([["INCR", "n"], ["INCR", "n"]])
        let extended = try connection.extendPipeline(pending, with: [["GET", "n"], ["LPUSH", "n", "x"]])
        let mixed = try connection.finishPipeline(extended)
        XCTAssertEqual(mixed.prefix(3), [.integer(1), .integer(2), .bulk(Array("2".utf8))])
        XCTAssertNotNil(mixed[3].errorMessage, "a rejected command yields its error in its slot")
        XCTAssertEqual(try connection.send("PING"), .status("PONG"))
    }

    func testScriptsLoadAndReloadAfterFlush() throws {
        let script = RedisScript("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('STRLEN', KEYS[1])")
        XCTAssertEqual(try connection.eval(script, keys: [[1, 2]], args: [[0, 0, 0]]), .integer(3))
        XCTAssertEqual(try connection.send("SCRIPT", "FLUSH"), .status("OK"))
        XCTAssertEqual(try connection.eval(script, keys: [[1, 2]], args: [[0]]), .integer(1))
        var batch = (0..<100).map { i -> RedisCommand in
            var command = RedisCommand(evalSHA: script, keyCount: 1)
            command.append("s:\(i)")
            command.append(Int64(i))
            return command
        }
        batch.append(["GET", "s:99"])
        let replies = try connection.pipeline(batch)
        XCTAssertEqual(replies[10], .integer(2))
        XCTAssertEqual(replies.last, .bulk(Array("99".utf8)))
    }

    func testUnknownCAIsRefusedWithTheReason() throws {
        let other = try RedisTestCertificates.make()
        defer { other.remove() }
        var endpoint = server.endpoint
        endpoint.tls?.caFile = other.caFile
        XCTAssertThrowsError(try RedisConnection(endpoint: endpoint)) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .tls)
            // The server sends its chain up to its own CA (OpenSSL builds it from --tls-ca-cert-file), which the
            // client does not trust.
            XCTAssertTrue(error.message.contains("certificate was refused: self-signed certificate in certificate chain"), error.message)
            XCTAssertTrue(error.message.contains(other.caFile), error.message)
            XCTAssertTrue(error.message.contains("127.0.0.1:\(self.server.port)"), error.message)
        }
    }

    func testWrongServerNameIsRefused() throws {
        var endpoint = server.endpoint
        endpoint.tls?.serverName = "redis.example.com"
        XCTAssertThrowsError(try RedisConnection(endpoint: endpoint)) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .tls)
            XCTAssertTrue(error.message.contains("hostname mismatch"), error.message)
            XCTAssertTrue(error.message.contains("expected name redis.example.com"), error.message)
        }
        // The certificate's names verify: localhost (a DNS SAN, sent as SNI) and 127.0.0.1 (an IP SAN).
        endpoint.tls?.serverName = "localhost"
        XCTAssertEqual(try RedisConnection(endpoint: endpoint).send("PING"), .status("PONG"))
        var byName = server.endpoint
        byName.host = "localhost"
        XCTAssertEqual(try RedisConnection(endpoint: byName).send("PING"), .status("PONG"))
    }

    func testTLSToAPlainPortSaysSo() throws {
        let plain = try RedisServerProcess.start()
        defer { plain.stop() }
        let endpoint = RedisEndpoint(host: plain.host, port: plain.port, tls: RedisTLSOptions(caFile: certificates.caFile))
        XCTAssertThrowsError(try RedisConnection(endpoint: endpoint, connectTimeoutMs: 1000)) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertEqual(error.kind, .connect)
            XCTAssertTrue(error.message.contains("TLS handshake failed"), error.message)
            XCTAssertTrue(error.message.contains("a TLS port?"), error.message)
        }
    }

    func testUnreadableFilesAreConnectErrors() throws {
        var endpoint = server.endpoint
        endpoint.tls?.caFile = "/nonexistent/ca.crt"
        XCTAssertThrowsError(try RedisConnection(endpoint: endpoint)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .tls)
            XCTAssertTrue("\(error)".contains("cannot load CA file /nonexistent/ca.crt"), "\(error)")
        }
        endpoint = server.endpoint
        endpoint.tls?.certFile = certificates.clientCertFile
        XCTAssertThrowsError(try RedisConnection(endpoint: endpoint)) { error in
            XCTAssertTrue("\(error)".contains("needs both a certificate file and a key file"), "\(error)")
        }
        endpoint.tls?.keyFile = certificates.serverKeyFile
        XCTAssertThrowsError(try RedisConnection(endpoint: endpoint)) { error in
            XCTAssertTrue("\(error)".contains("cannot load client key \(self.certificates.serverKeyFile): key values mismatch"), "\(error)")
        }
    }

    func testClientCertificateWhenTheServerAsksForOne() throws {
        let strict = try RedisServerProcess.start(tls: certificates.serverTLS(authClients: true))
        defer { strict.stop() }
        XCTAssertEqual(try RedisConnection(endpoint: strict.endpoint).send("PING"), .status("PONG"))
        var anonymous = strict.endpoint
        anonymous.tls?.certFile = nil
        anonymous.tls?.keyFile = nil
        // TLS 1.3 finishes the client's handshake before the server checks the certificate, so the refusal may show
        // on the first command instead; either way no command runs.
        XCTAssertThrowsError(try RedisConnection(endpoint: anonymous, commandTimeoutMs: 1000).send("PING")) { error in
            XCTAssertTrue([.connect, .io, .eof].contains((error as? RedisError)?.kind), "\(error)")
        }
    }

    func testCommandTimeoutOverTLS() throws {
        let slow = try RedisServerProcess.start(
            extraArguments: ["--enable-debug-command", "local"], tls: certificates.serverTLS())
        defer { slow.stop() }
        let connection = try RedisConnection(endpoint: slow.endpoint, commandTimeoutMs: 200)
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
        XCTAssertThrowsError(try connection.send("PING")) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .io)
        }
        Thread.sleep(until: started.addingTimeInterval(1.1))
        try connection.reconnect()
        XCTAssertEqual(try connection.send("ECHO", "after"), .bulk(Array("after".utf8)))
    }

    func testKilledServerGivesEOFAndReconnectShakesHandsAgain() throws {
        let server = try RedisServerProcess.start(tls: certificates.serverTLS())
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        let script = RedisScript("return ARGV[1]")
        XCTAssertEqual(try connection.eval(script, keys: [], args: [[7]]), .bulk([7]))

        server.kill()
        XCTAssertThrowsError(try connection.send("PING")) { error in
            guard let error = error as? RedisError else { return XCTFail("\(error)") }
            XCTAssertTrue([.eof, .io].contains(error.kind), "\(error)")
            XCTAssertTrue(error.message.contains("127.0.0.1:\(server.port)"), error.message)
        }
        XCTAssertTrue(connection.isBroken)
        XCTAssertThrowsError(try connection.reconnect()) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .connect)
        }
        try server.restart(keepData: false)
        try connection.reconnect()
        XCTAssertEqual(try connection.eval(script, keys: [], args: [[8]]), .bulk([8]))
    }
}
