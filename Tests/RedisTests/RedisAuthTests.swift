import Foundation
import XCTest
import Redis

/// `AUTH` with an ACL user against a real server whose default user is off, over plain TCP and over TLS.
final class RedisAuthTests: XCTestCase {
    let password = "s3cret-Pa55word-\(UUID().uuidString)"
    var user: RedisServerUser { RedisServerUser(name: "vigil", password: password) }

    func testRightPasswordAuthenticatesAsTheUser() throws {
        let server = try RedisServerProcess.start(users: [user])
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        XCTAssertEqual(try connection.send("ACL", "WHOAMI"), .bulk(Array("vigil".utf8)))
        XCTAssertEqual(try connection.pipeline([["SET", "k", "v"], ["GET", "k"]]).last, .bulk(Array("v".utf8)))
    }

    func testWrongPasswordIsAnAuthErrorThatNamesNoPassword() throws {
        let server = try RedisServerProcess.start(users: [user])
        defer { server.stop() }
        for credentials in [
            RedisCredentials(user: "vigil", password: "wrong-\(password)"),
            RedisCredentials(user: "nobody", password: password),
            RedisCredentials(user: nil, password: password),
        ] {
            var endpoint = server.endpoint
            endpoint.credentials = credentials
            XCTAssertThrowsError(try RedisConnection(endpoint: endpoint)) { error in
                guard let error = error as? RedisError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.kind, .auth, "\(error)")
                XCTAssertTrue(error.message.contains("refused the credentials of user \(credentials.user ?? "default")"), error.message)
                XCTAssertTrue(error.message.contains("WRONGPASS"), error.message)
                XCTAssertFalse("\(error)".contains(self.password), "the error must not show the password")
            }
        }
    }

    func testMissingCredentialsGetNOAUTH() throws {
        let server = try RedisServerProcess.start(users: [user])
        defer { server.stop() }
        let connection = try RedisConnection(host: server.host, port: server.port)
        let reply = try connection.send("GET", "k")
        XCTAssertEqual(reply.errorCode, "NOAUTH", "\(reply)")
    }

    func testReconnectAfterRestartAuthenticatesAgain() throws {
        let server = try RedisServerProcess.start(users: [user])
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        XCTAssertEqual(try connection.send("SET", "k", "v"), .status("OK"))
        try server.restart(keepData: false)
        XCTAssertThrowsError(try connection.send("PING"))
        try connection.reconnect()
        XCTAssertEqual(try connection.send("ACL", "WHOAMI"), .bulk(Array("vigil".utf8)))
        XCTAssertEqual(try connection.send("SET", "k", "v2"), .status("OK"))
    }

    func testTLSAndAuthTogether() throws {
        let certificates = try RedisTestCertificates.make()
        defer { certificates.remove() }
        let server = try RedisServerProcess.start(tls: certificates.serverTLS(authClients: true), users: [user])
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint)
        XCTAssertEqual(try connection.send("ACL", "WHOAMI"), .bulk(Array("vigil".utf8)))
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        XCTAssertEqual(try connection.eval(script, keys: [Array("n".utf8)], args: [Array("5".utf8)]), .integer(5))

        var wrong = server.endpoint
        wrong.credentials?.password = "not-it"
        XCTAssertThrowsError(try RedisConnection(endpoint: wrong)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .auth, "\(error)")
            XCTAssertFalse("\(error)".contains("not-it"))
        }

        server.kill()
        try server.restart(keepData: false)
        XCTAssertThrowsError(try connection.send("PING"))
        try connection.reconnect()
        XCTAssertEqual(try connection.send("ACL", "WHOAMI"), .bulk(Array("vigil".utf8)))
    }
}
