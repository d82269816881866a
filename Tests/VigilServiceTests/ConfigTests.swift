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

    /// Out-of-orderness and lateness of 64 bits used to trap in `validate()` ("arithmetic overflow" in their sum).
    func testLatenessBoundsAreCheckedWithoutOverflow() {
        let cases: [(outOfOrderness: Int64, lateness: Int64, problems: [String])] = [
            (0, .max, ["lateness must be 0-604800000 ms (7 days), got 9223372036854775807"]),
            (.max, 0, ["out-of-orderness must be 0-604800000 ms (7 days), got 9223372036854775807"]),
            (.max, .max, ["out-of-orderness must be 0-604800000 ms (7 days), got 9223372036854775807",
                          "lateness must be 0-604800000 ms (7 days), got 9223372036854775807"]),
            (.min, -1, ["out-of-orderness must be 0-604800000 ms (7 days), got -9223372036854775808",
                        "lateness must be 0-604800000 ms (7 days), got -1"]),
            (1 << 62, 1 << 62, ["out-of-orderness must be 0-604800000 ms (7 days), got 4611686018427387904",
                                "lateness must be 0-604800000 ms (7 days), got 4611686018427387904"]),
            (4 * Windows.day, 3 * Windows.day + 1,
             ["out-of-orderness plus lateness must be at most 7 days (604800000 ms), got 604800001"]),
        ]
        for (outOfOrderness, lateness, expected) in cases {
            var c = VigilConfig()
            c.features.outOfOrdernessMs = outOfOrderness
            c.features.latenessMs = lateness
            XCTAssertThrowsError(try c.validate()) { error in
                XCTAssertEqual((error as? ConfigError)?.problems, expected, "\(outOfOrderness), \(lateness)")
            }
        }
        var c = VigilConfig()
        c.features.outOfOrdernessMs = 4 * Windows.day
        c.features.latenessMs = 3 * Windows.day
        XCTAssertNoThrow(try c.validate(), "exactly 7 days together")
        c.features.outOfOrdernessMs = 0
        c.features.latenessMs = 0
        XCTAssertNoThrow(try c.validate())
    }

    func testStartupTimeoutRange() {
        XCTAssertEqual(VigilConfig().startupTimeoutMs, 10_000)
        XCTAssertFalse(VigilConfig().allowEvictingRedis)
        var c = VigilConfig()
        for (value, valid) in [(999, false), (1000, true), (300_000, true), (300_001, false), (-1, false), (Int.max, false)] {
            c.startupTimeoutMs = value
            if valid {
                XCTAssertNoThrow(try c.validate(), "\(value)")
            } else {
                XCTAssertThrowsError(try c.validate(), "\(value)") {
                    XCTAssertEqual(($0 as? ConfigError)?.problems, ["startup timeout must be 1000-300000 ms, got \(value)"])
                }
            }
        }
    }


    func testTransactionCadenceRanges() {
        XCTAssertEqual(VigilConfig().transactionIntervalMs, 20)
        XCTAssertEqual(VigilConfig().transactionMaxBatches, 8)
        var c = VigilConfig()
        for (value, valid) in [(-1, false), (0, true), (1000, true), (1001, false)] {
            c.transactionIntervalMs = value
            if valid {
                XCTAssertNoThrow(try c.validate(), "\(value)")
            } else {
                XCTAssertThrowsError(try c.validate(), "\(value)") {
                    XCTAssertEqual(($0 as? ConfigError)?.problems, ["transaction interval must be 0-1000 ms, got \(value)"])
                }
            }
        }
        c = VigilConfig()
        for (value, valid) in [(0, false), (1, true), (64, true), (65, false)] {
            c.transactionMaxBatches = value
            if valid {
                XCTAssertNoThrow(try c.validate(), "\(value)")
            } else {
                XCTAssertThrowsError(try c.validate(), "\(value)") {
                    XCTAssertEqual(($0 as? ConfigError)?.problems, ["transaction max batches must be 1-64, got \(value)"])
                }
            }
        }
    }
    // MARK: Environment variables

    func testEnvironmentIntegersAreStrict() {
        var env = VigilEnvironment([
            "VIGIL_A": "250", "VIGIL_B": "-1", "VIGIL_C": "abc", "VIGIL_D": "1e3", "VIGIL_E": "0x10", "VIGIL_F": " 5",
            "VIGIL_G": "99999999999999999999", "VIGIL_H": "", "VIGIL_I": "1_000", "VIGIL_J": "+7", "VIGIL_K": "2.0",
        ])
        XCTAssertEqual(env.int("VIGIL_A", 1), 250)
        XCTAssertEqual(env.int("VIGIL_B", 1), -1)
        XCTAssertEqual(env.int("VIGIL_J", 1), 7)
        XCTAssertEqual(env.int("VIGIL_H", 42), 42, "empty is unset")
        XCTAssertEqual(env.int("VIGIL_UNSET", 42), 42)
        XCTAssertTrue(env.problems.isEmpty, "\(env.problems)")
        for name in ["VIGIL_C", "VIGIL_D", "VIGIL_E", "VIGIL_F", "VIGIL_G", "VIGIL_I", "VIGIL_K"] {
            XCTAssertEqual(env.int(name, 42), 42, name)
        }
        XCTAssertEqual(env.problems.count, 7, "\(env.problems)")
        XCTAssertEqual(env.problems["VIGIL_D"], "VIGIL_D='1e3' is not an integer (decimal digits, optionally signed, within 64 bits)")
        XCTAssertEqual(env.problemLines.first, "VIGIL_C='abc' is not an integer (decimal digits, optionally signed, within 64 bits)")
        // Read again (ArgumentParser builds its values more than once): still one problem each.
        _ = env.int("VIGIL_C", 42)
        XCTAssertEqual(env.problemLines.count, 7)
    }

    func testEnvironmentBooleansAcceptOnlyTheDocumentedValues() {
        var env = VigilEnvironment([
            "ON1": "1", "ON2": "true", "OFF1": "0", "OFF2": "false", "EMPTY": "",
            "BAD1": "yes", "BAD2": "TRUE", "BAD3": "on", "BAD4": "2", "BAD5": "off",
        ])
        XCTAssertTrue(env.bool("ON1", false))
        XCTAssertTrue(env.bool("ON2", false))
        XCTAssertFalse(env.bool("OFF1", true))
        XCTAssertFalse(env.bool("OFF2", true))
        XCTAssertTrue(env.bool("EMPTY", true))
        XCTAssertFalse(env.bool("UNSET", false))
        XCTAssertTrue(env.problems.isEmpty)
        for name in ["BAD1", "BAD2", "BAD3", "BAD4", "BAD5"] { XCTAssertFalse(env.bool(name, false), name) }
        XCTAssertEqual(env.problems.count, 5)
        XCTAssertEqual(env.problems["BAD1"], "BAD1='yes' must be 1 or true (on), 0 or false (off)")
    }

    func testEnvironmentStrings() {
        let env = VigilEnvironment(["VIGIL_GROUP": "fraud", "VIGIL_MODE": ""])
        XCTAssertEqual(env.string("VIGIL_GROUP", "vigil"), "fraud")
        XCTAssertEqual(env.string("VIGIL_MODE", "exactly-once"), "exactly-once", "empty is unset")
        XCTAssertNil(env.value("VIGIL_MODE"))
        XCTAssertNil(env.value("VIGIL_TRANSACTIONAL_ID"))
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
