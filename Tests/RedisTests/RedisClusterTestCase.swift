import XCTest
import Redis

/// A test case with one Redis Cluster (3 masters, 3 replicas) for the whole class and a fresh client per test.
class RedisClusterTestCase: XCTestCase {
    nonisolated(unsafe) static var clusters: [ObjectIdentifier: RedisClusterProcess] = [:]
    nonisolated(unsafe) static var startErrors: [ObjectIdentifier: Error] = [:]

    /// The ACL user the class's cluster requires, if any.
    class var clusterCredentials: RedisCredentials? { nil }

    var cluster: RedisClusterProcess!
    var client: RedisClusterClient!

    override class func setUp() {
        super.setUp()
        do {
            clusters[ObjectIdentifier(self)] = try RedisClusterProcess.start(credentials: clusterCredentials)
        } catch {
            startErrors[ObjectIdentifier(self)] = error
        }
    }

    override class func tearDown() {
        clusters.removeValue(forKey: ObjectIdentifier(self))?.stop()
        super.tearDown()
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        if let error = Self.startErrors[ObjectIdentifier(Self.self)] { throw error }
        cluster = try XCTUnwrap(Self.clusters[ObjectIdentifier(Self.self)])
        client = try RedisClusterClient(seed: cluster.seed)
        for (_, reply) in try client.sendToEachMaster(["FLUSHALL"]) { XCTAssertEqual(reply, .status("OK")) }
    }

    override func tearDown() {
        client?.close()
        client = nil
        cluster = nil
        super.tearDown()
    }

    /// The node process listening at `address`.
    func node(at address: RedisAddress?) throws -> RedisServerProcess {
        let address = try XCTUnwrap(address)
        return try XCTUnwrap(cluster.nodes.first { $0.port == address.port })
    }

    /// One key per master, each in its own hash tag: `{t<n>}<suffix>`, the tags chosen so the keys land on
    /// different masters.
    func keysOnEveryMaster(suffix: String = "k") throws -> [String] {
        var byMaster: [RedisAddress: String] = [:]
        var n = 0
        while byMaster.count < client.masters.count && n < 10_000 {
            let key = "{t\(n)}\(suffix)"
            let owner = try XCTUnwrap(client.master(ofSlot: RedisSlot.slot(ofKey: key)))
            if byMaster[owner] == nil { byMaster[owner] = key }
            n += 1
        }
        return byMaster.values.sorted()
    }
}
