import Foundation
import Kafka
import VigilService
import XCTest

/// The built `vigil` binary, next to the test bundle; `VIGIL_TEST_BINARY` points the process tests at another build
/// (for example an older commit's, to show that a test fails there).
let vigilBinary: URL = {
    if let path = ProcessInfo.processInfo.environment["VIGIL_TEST_BINARY"], !path.isEmpty {
        return URL(fileURLWithPath: path)
    }
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("vigil")
}()

/// `vigil serve` as a real child process, for crash, signal and rebalance tests.
final class VigilProcess {
    let process = Process()
    let logURL: URL

    init(_ h: Harness, name: String, extra: [String] = []) throws {
        guard FileManager.default.isExecutableFile(atPath: vigilBinary.path) else {
            throw XCTSkip("vigil binary not built at \(vigilBinary.path); run `swift build` first")
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(name)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = vigilBinary
        process.arguments = [
            "serve", "--brokers", h.config.brokers, "--redis", "\(h.config.redisHost):\(h.config.redisPort)",
            "--group", h.config.group, "--model", h.config.modelPath, "--session-timeout-ms", "6000",
            "--batch-size", String(h.config.batchSize), "--mode", h.config.mode.rawValue, "--log-level", "info",
        ] + (extra.contains("--http-port") ? [] : ["--http-port", "0"]) + extra
        process.standardOutput = try FileHandle(forWritingTo: logURL)
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and returns how long the process took to exit (nil if it did not within `limit`).
    func terminate(limit: TimeInterval = 15) -> TimeInterval? {
        let start = Date()
        kill(process.processIdentifier, SIGTERM)
        while process.isRunning, Date().timeIntervalSince(start) < limit { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return Date().timeIntervalSince(start)
    }

    var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits until the log contains `text`; false after `timeout`.
    func waitForLog(_ text: String, timeout: TimeInterval = 45) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !log.contains(text) {
            if Date() > deadline { return false }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return true
    }
}

extension Harness {
    /// Sum over partitions of what Redis says is applied (records finished, whatever their outcome).
    func appliedCount() -> Int64 {
        let store = StateStore(host: config.redisHost, port: config.redisPort, prefix: config.redisPrefix)
        var total: Int64 = 0
        for p in 0..<partitions {
            let record = try? store.loadPartition(TopicPartition(topic: config.topics.transactions, partition: p))
            total += (record?.applied).map { $0 + 1 } ?? 0
        }
        return total
    }

    /// Waits until Redis says every one of `count` input records is applied.
    func waitForApplied(_ count: Int, timeout: TimeInterval = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if appliedCount() >= Int64(count) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }
}
