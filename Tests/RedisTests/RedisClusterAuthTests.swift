import XCTest
import Redis

/// A cluster whose every node requires the ACL user `vigil` (the default user may only PING and INFO).
final class RedisClusterAuthTests: RedisClusterTestCase {
    override class var clusterCredentials: RedisCredentials? { RedisCredentials(user: "vigil", password: "cluster-secret") }

    func testCredentialsApplyToEveryNode() throws {
        let keys = try keysOnEveryMaster()
        XCTAssertEqual(try client.pipeline(keys.map { ["SET", $0, "v"] }), Array(repeating: .status("OK"), count: 3))
        XCTAssertEqual(try client.pipeline(keys.map { ["GET", $0] }), Array(repeating: .bulk([118]), count: 3))
        let script = RedisScript("return redis.call('GET', KEYS[1])")
        try client.load(script)
        for key in keys { XCTAssertEqual(try client.eval(script, keys: [Array(key.utf8)], args: []), .bulk([118])) }
        XCTAssertEqual(
            try client.sendToEachMaster(["ACL", "WHOAMI"]).map(\.reply), Array(repeating: .bulk(Array("vigil".utf8)), count: 3))

        // The default user cannot read the slot map; a wrong password is refused by AUTH.
        var anonymous = cluster.seed
        anonymous.credentials = nil
        XCTAssertThrowsError(try RedisClusterClient(seed: anonymous)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .auth, "\(error)")
        }
        var wrong = cluster.seed
        wrong.credentials = RedisCredentials(user: "vigil", password: "nope")
        XCTAssertThrowsError(try RedisClusterClient(seed: wrong)) { error in
            XCTAssertEqual((error as? RedisError)?.kind, .auth, "\(error)")
            XCTAssertFalse("\(error)".contains("nope"), "the password must not show")
        }
    }
}
