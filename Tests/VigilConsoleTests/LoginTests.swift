import XCTest
import VigilCore
@testable import VigilConsole

final class LoginTests: XCTestCase {
    func testSharedToken() throws {
        let credentials = try AnalystCredentials.sharedToken("  correct-horse-battery-staple\n")
        XCTAssertEqual(credentials.authenticate(name: " ana ", secret: "correct-horse-battery-staple"), "ana")
        XCTAssertNil(credentials.authenticate(name: "ana", secret: "correct-horse-battery-stapl"))
        XCTAssertNil(credentials.authenticate(name: "<script>", secret: "correct-horse-battery-staple"), "names are plain")
        XCTAssertNil(credentials.authenticate(name: "", secret: "correct-horse-battery-staple"))
        XCTAssertThrowsError(try AnalystCredentials.sharedToken("short")) {
            XCTAssertEqual($0 as? AnalystCredentials.Problem, .shortToken(minimum: 16))
        }
        XCTAssertThrowsError(try AnalystCredentials.sharedToken(" \n")) { XCTAssertEqual($0 as? AnalystCredentials.Problem, .emptyToken) }
    }

    func testUsersFile() throws {
        let digest = SHA256.hex(Array("s3cret pass".utf8))
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "as sha256sum prints it")
        let credentials = try AnalystCredentials.usersFile("# analysts\n\nana:sha256:\(digest)\nbo:sha256:\(String(repeating: "0", count: 64))\n")
        XCTAssertEqual(credentials.authenticate(name: "ana", secret: "s3cret pass"), "ana")
        XCTAssertNil(credentials.authenticate(name: "bo", secret: "s3cret pass"))
        XCTAssertNil(credentials.authenticate(name: "carl", secret: "s3cret pass"))
        XCTAssertThrowsError(try AnalystCredentials.usersFile("ana:plain:pw")) {
            XCTAssertEqual($0 as? AnalystCredentials.Problem, .badUsersLine(1, "expected name:sha256:<hex digest>"))
        }
        XCTAssertThrowsError(try AnalystCredentials.usersFile("ana:sha256:abc")) {
            XCTAssertEqual($0 as? AnalystCredentials.Problem, .badUsersLine(1, "the digest is not 64 hex digits"))
        }
        XCTAssertThrowsError(try AnalystCredentials.usersFile("# nobody\n")) { XCTAssertEqual($0 as? AnalystCredentials.Problem, .noUsers) }
    }

    func testSessionsExpireAndNeedTheirCSRFToken() {
        var book = SessionBook(limits: .init(idleMs: 100, lifetimeMs: 250, sessions: 2))
        book.open(id: "s1", analyst: "ana", csrfToken: "t1", nowMs: 0)
        XCTAssertEqual(book.check(id: "s1", nowMs: 90)?.analyst, "ana")
        XCTAssertEqual(book.check(id: "s1", nowMs: 180)?.analyst, "ana", "use keeps it alive")
        XCTAssertNil(book.check(id: "s1", nowMs: 260), "but not past its lifetime")
        book.open(id: "s2", analyst: "bo", csrfToken: "t2", nowMs: 300)
        XCTAssertNil(book.check(id: "s2", nowMs: 401), "idle too long")
        XCTAssertNil(book.check(id: nil, nowMs: 0))
        XCTAssertNil(book.check(id: "forged", nowMs: 0))

        book.open(id: "a", analyst: "a", csrfToken: "ta", nowMs: 1000)
        book.open(id: "b", analyst: "b", csrfToken: "tb", nowMs: 1001)
        book.open(id: "c", analyst: "c", csrfToken: "tc", nowMs: 1002)
        XCTAssertEqual(book.count, 2)
        XCTAssertNil(book.check(id: "a", nowMs: 1003), "the least recently used goes")
        let session = book.check(id: "c", nowMs: 1003)!
        XCTAssertTrue(SessionBook.csrfMatches(session, header: "tc"))
        XCTAssertFalse(SessionBook.csrfMatches(session, header: "tb"))
        XCTAssertFalse(SessionBook.csrfMatches(session, header: nil))
        book.close(id: "c")
        XCTAssertNil(book.check(id: "c", nowMs: 1004))
    }

    func testTokensAreRandomHex() {
        let a = SessionBook.newToken()
        XCTAssertEqual(a.count, 64)
        XCTAssertTrue(a.allSatisfy(\.isHexDigit))
        XCTAssertNotEqual(a, SessionBook.newToken())
    }

    func testKafkaHealthKeepsTheTimeOfTheChange() {
        var health = KafkaHealth()
        health.observe(reachable: true, detail: nil, nowMs: 1)
        health.observe(reachable: false, detail: "all brokers down", nowMs: 5)
        health.observe(reachable: false, detail: "all brokers down", nowMs: 9)
        XCTAssertEqual(health, KafkaHealth(reachable: false, sinceMs: 5, detail: "all brokers down"))
        health.observe(reachable: true, detail: nil, nowMs: 12)
        XCTAssertEqual(health.sinceMs, 12)
        XCTAssertNil(health.detail)
    }
}
