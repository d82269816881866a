import VigilCore
import VigilService
import XCTest

final class ConfigTests: XCTestCase {
    func testDefaultsAreValid() throws {
        XCTAssertNoThrow(try VigilConfig().validate())
        XCTAssertEqual(VigilConfig().mode, .exactlyOnce)
        XCTAssertEqual(VigilConfig().topics.outputs, ["fraud.decisions", "fraud.alerts", "fraud.features", "fraud.late", "fraud.dlq"])
        XCTAssertEqual(VigilConfig().topics.shadow, "fraud.shadow")
        XCTAssertEqual(VigilConfig().modelSource, .file)
    }

    func testShadowModelFileNeedsTheFileSource() {
        var c = VigilConfig()
        c.shadowModelPath = "models/candidate.json"
        XCTAssertNoThrow(try c.validate())
        c.modelSource = .redis
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("vigil model publish --shadow"), "\($0)") }
    }

    func testEveryProblemIsReportedAtOnce() {
        var c = VigilConfig()
        c.brokers = "localhost"
        c.redisPort = 0
        c.topics.alerts = "fraud.decisions"
        c.topics.dlq = "bad topic"
        c.batchSize = 0
        c.features = FeatureConfig(outOfOrdernessMs: -1)
        c.httpPort = 70_000
        XCTAssertThrowsError(try c.validate()) { error in
            let problems = (error as? ConfigError)?.problems ?? []
            XCTAssertEqual(problems.count, 7, "\(problems)")
            let text = "\(error)"
            for fragment in ["brokers", "redis port", "must all differ", "bad topic", "batch size", "out-of-orderness", "http port"] {
                XCTAssertTrue(text.contains(fragment), "\(fragment) in \(text)")
            }
        }
    }

    func testTheFutureBoundMustBePositive() {
        XCTAssertEqual(VigilConfig().features.maxFutureMs, 86_400_000)
        var c = VigilConfig()
        for bad: Int64 in [0, -1] {
            c.features.maxFutureMs = bad
            XCTAssertThrowsError(try c.validate()) { error in
                XCTAssertEqual((error as? ConfigError)?.problems.count, 1, "\(error)")
                XCTAssertTrue("\(error)".contains("max future must be > 0 ms"), "\(error)")
            }
        }
        c.features.maxFutureMs = 1
        XCTAssertNoThrow(try c.validate())
        c.features.maxFutureMs = .max  // no bound in effect; the check cannot overflow
        XCTAssertNoThrow(try c.validate())
    }

    func testBrokerListsAndTopicNames() throws {
        var c = VigilConfig()
        c.brokers = "k1:9092,k2:9093,[::1]:9094"
        XCTAssertNoThrow(try c.validate())
        c.brokers = "k1:9092,"
        XCTAssertThrowsError(try c.validate())
        c.brokers = "k1:99999"
        XCTAssertThrowsError(try c.validate())
    }
}
