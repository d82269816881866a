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
    private(set) var startedAt = Date()

    /// `environment` is added to this process's environment for the child.
    init(_ h: Harness, name: String, extra: [String] = [], environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: vigilBinary.path) else {
            throw XCTSkip("vigil binary not built at \(vigilBinary.path); run `swift build` first")
        }
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-\(name)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = vigilBinary
        process.arguments = [
            "serve", "--brokers", h.config.brokers,
            "--redis", ([h.config.redisEndpoint.address] + h.config.redisOtherSeeds.map(\.description)).joined(separator: ","),
            "--group", h.config.group, "--model", h.config.modelPath, "--session-timeout-ms", "6000",
            "--batch-size", String(h.config.batchSize), "--mode", h.config.mode.rawValue, "--log-level", "info",
        ] + (h.config.redisCluster ? ["--redis-cluster"] : []) + (extra.contains("--http-port") ? [] : ["--http-port", "0"])
            + (extra.contains("--first-start") ? [] : ["--first-start", "earliest"]) + extra
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = try FileHandle(forWritingTo: logURL)
        process.standardError = try FileHandle(forWritingTo: logURL)
        try process.run()
        startedAt = Date()
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

    /// Waits until the process exits on its own; returns its exit status and how long it ran, or nil if it was still
    /// running after `limit` (it is then killed).
    func waitForExit(limit: TimeInterval) -> (status: Int32, seconds: TimeInterval)? {
        let deadline = startedAt.addingTimeInterval(limit)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill9()
            return nil
        }
        return (process.terminationStatus, Date().timeIntervalSince(startedAt))
    }

    /// Waits until the log contains `text` (one of `texts`) past its first `offset` characters; false if the process
    /// exited or `timeout` passed first.
    func waitForLog(_ texts: String..., after offset: Int = 0, timeout: TimeInterval = 30) -> Bool {
        func found() -> Bool {
            let recent = log.dropFirst(offset)
            return texts.contains { recent.contains($0) }
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if found() { return true }
            if !process.isRunning { return found() }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// How often `text` occurs in the log so far.
    func logCount(_ text: String) -> Int { log.components(separatedBy: text).count - 1 }
}

extension Harness {
    /// Sum over partitions of what Redis says is applied (records finished, whatever their outcome).
    func appliedCount() -> Int64 {
        let store = StateStore(endpoint: config.redisEndpoint, prefix: config.redisPrefix)
        var total: Int64 = 0
        for p in 0..<partitions {
            let record = try? store.loadPartition(TopicPartition(topic: config.topics.transactions, partition: p))
            total += (record?.applied).map { $0 + 1 } ?? 0
        }
        return total
    }

    /// Sum over partitions of the group's committed offsets: the mark below which outputs are out.
    func committedCount() -> Int64 {
        // A consumer that never subscribes does not join the group; it only asks for the group's offsets.
        guard let reader = try? KafkaConsumer(config: ["bootstrap.servers": cluster.bootstrapServers, "group.id": config.group])
        else { return 0 }
        defer { try? reader.close() }
        let tps = (0..<partitions).map { TopicPartition(topic: config.topics.transactions, partition: $0) }
        let committed = (try? reader.committed(tps, timeoutMs: 5000)) ?? [:]
        return committed.values.filter { $0 >= 0 }.reduce(0, +)
    }

    /// Waits until the group's committed offsets cover `count` input records.
    func waitForCommitted(_ count: Int, timeout: TimeInterval = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if committedCount() >= Int64(count) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
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

extension XCTestCase {
    /// Polls `condition` every 50 ms until it holds or `timeout` passes; whether it held.
    func waitUntil(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition()
    }
}
