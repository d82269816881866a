import Foundation
import Logging
import Redis
import VigilCore
import VigilService
import XCTest

/// Models published through Redis (`ModelChannel`) and followed by an instance (`ModelFollower`), on a real
/// redis-server.
final class ModelChannelTests: XCTestCase {
    var redis: RedisServerProcess!

    override func setUpWithError() throws { redis = try RedisServerProcess.start() }
    override func tearDown() { redis?.stop() }

    func channel(prefix: String = "vigil") -> ModelChannel { ModelChannel(host: redis.host, port: redis.port, prefix: prefix) }

    func modelJSON(_ version: String, bias: Double = -5) throws -> [UInt8] {
        var file = try ModelFile.parse(Data(contentsOf: modelsDirectory.appendingPathComponent("baseline.json")))
        file.version = version
        file.bias = bias
        return Array(try file.encoded())
    }

    func testPublishFetchPromoteAndClear() throws {
        let c = channel()
        XCTAssertEqual(try c.versions(), [:])
        XCTAssertNil(try c.fetch(.active))

        XCTAssertTrue(try c.publish(modelJSON("v1"), to: .active))
        XCTAssertFalse(try c.publish(modelJSON("v1"), to: .active), "the same model again changes nothing")
        XCTAssertEqual(try c.versions(), [.active: "v1"])
        XCTAssertEqual(try c.fetch(.active), PublishedModel(version: "v1", json: try modelJSON("v1")))
        XCTAssertEqual(c.jsonKey(.active), "vigil:{model}:active")
        XCTAssertEqual(c.versionKey(.shadow), "vigil:{model}:shadow:version")

        // A version names one model: other bytes under a published version are refused, and nothing changes.
        XCTAssertThrowsError(try c.publish(modelJSON("v1", bias: -4), to: .active)) {
            XCTAssertTrue("\($0)".contains("already published with other content"), "\($0)")
        }
        XCTAssertEqual(try c.fetch(.active)?.json, try modelJSON("v1"))
        // A model that does not load is never published.
        XCTAssertThrowsError(try c.publish(Array("{\"version\":\"v9\"}".utf8), to: .active)) {
            guard case ModelChannelError.invalidModel = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(try c.versions()[.active], "v1")

        XCTAssertThrowsError(try c.promoteShadow()) { XCTAssertTrue("\($0)".contains("no shadow model"), "\($0)") }
        try c.publish(modelJSON("v2"), to: .shadow)
        XCTAssertEqual(try c.versions(), [.active: "v1", .shadow: "v2"])
        XCTAssertThrowsError(try c.promoteShadow(expecting: "v3")) { XCTAssertTrue("\($0)".contains("not v3"), "\($0)") }
        XCTAssertEqual(try c.promoteShadow(expecting: "v2"), "v2")
        XCTAssertEqual(try c.versions(), [.active: "v2"], "promotion empties the shadow slot")
        XCTAssertEqual(try c.fetch(.active)?.json, try modelJSON("v2"))

        try c.publish(modelJSON("v3"), to: .shadow)
        try c.clear(.shadow)
        XCTAssertEqual(try c.versions(), [.active: "v2"])
        XCTAssertEqual(try channel(prefix: "other").versions(), [:], "prefixes separate deployments")
    }

    func testFollowerStartsFromTheFileAndFollowsWhatIsPublished() throws {
        let logs = LogCapture()
        let logger = logs.logger
        let c = channel()
        let fallback = modelsDirectory.appendingPathComponent("baseline.json").path
        let follower = try ModelFollower(channel: c, fallbackPath: fallback, logger: logger)
        XCTAssertTrue(follower.holder.model.version.hasPrefix("baseline-"), "nothing published: the file")
        XCTAssertNil(follower.holder.shadow)

        try c.publish(modelJSON("v1"), to: .active)
        try c.publish(modelJSON("s1"), to: .shadow)
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v1")
        XCTAssertEqual(follower.holder.shadow?.version, "s1")

        // A bad model under a new version (written by hand, past the publisher's checks) is refused once and the
        // running model stays.
        let redisClient = try RedisConnection(host: redis.host, port: redis.port)
        _ = try redisClient.send("SET", "vigil:{model}:active", "{ not json")
        _ = try redisClient.send("SET", "vigil:{model}:active:version", "v2")
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v1")
        XCTAssertEqual(logs.count(of: "model rejected, keeping the running model"), 1)
        follower.poll(force: false)
        XCTAssertEqual(logs.count(of: "model rejected, keeping the running model"), 1, "not fetched again until it changes")
        // A version key that disagrees with the model's own version is refused too.
        _ = try redisClient.send("SET", "vigil:{model}:active", String(decoding: try modelJSON("v3"), as: UTF8.self))
        _ = try redisClient.send("SET", "vigil:{model}:active:version", "v3-other")
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v1")
        XCTAssertEqual(logs.count(of: "model rejected, keeping the running model"), 2)

        try c.clear(.active)
        try c.publish(modelJSON("v4"), to: .active)
        try c.clear(.shadow)
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v4")
        XCTAssertNil(follower.holder.shadow, "an emptied shadow slot stops shadow scoring")
        try c.clear(.active)
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v4", "an emptied active slot leaves the running model")

        // Redis away: the models stay, the outage is logged once; back: what was published meanwhile is picked up.
        redis.kill()
        follower.poll(force: false)
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v4")
        XCTAssertEqual(logs.count(of: "model channel unreachable"), 1)
        redis = try RedisServerProcess.start(port: redis.port)
        try c.publish(modelJSON("v5"), to: .active)
        follower.poll(force: false)
        XCTAssertEqual(follower.holder.model.version, "v5")
        XCTAssertEqual(logs.count(of: "model channel reachable again"), 1)
    }

    func testFollowerStartsFromThePublishedModel() throws {
        let c = channel()
        try c.publish(modelJSON("published-v1"), to: .active)
        let follower = try ModelFollower(channel: c, fallbackPath: "/nonexistent/model.json", logger: LogCapture().logger)
        XCTAssertEqual(follower.holder.model.version, "published-v1", "the fallback file is not needed")
        try c.clear(.active)
        XCTAssertThrowsError(try ModelFollower(channel: c, fallbackPath: "/nonexistent/model.json", logger: LogCapture().logger),
                             "nothing published and no file: cannot start")
    }
}

/// Collects log messages, to check what an operator would read.
final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []

    var logger: Logger {
        Logger(label: "test") { _ in Handler(capture: self) }
    }

    func count(of text: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return messages.filter { $0.contains(text) }.count
    }

    func append(_ message: String) {
        lock.lock()
        messages.append(message)
        lock.unlock()
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            capture.append("\(event.level) \(event.message) \(event.metadata ?? [:])")
        }
    }
}
