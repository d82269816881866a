import Foundation

/// The machine a run measured on, for the report.
struct MachineInfo: Sendable, Codable {
    var cpus: Int
    var cpuModel: String
    var memoryMB: Int
    var kernel: String
    var hostname: String
    var gitCommit: String?
    var gitDirty: Bool?
    /// /proc/loadavg's 1-minute load when the run started: above ~0.5 something else was using the CPUs.
    var loadAverage: Double?

    static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        let kernel = ((try? String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let commit = run("/usr/bin/git", ["rev-parse", "--short=12", "HEAD"])
        let dirty = run("/usr/bin/git", ["status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty }
        return MachineInfo(
            cpus: ProcessInfo.processInfo.activeProcessorCount,
            cpuModel: model,
            memoryMB: Int(ProcessInfo.processInfo.physicalMemory / 1_048_576),
            kernel: kernel,
            hostname: ProcessInfo.processInfo.hostName,
            gitCommit: commit,
            gitDirty: dirty,
            loadAverage: loadAverageNow())
    }

    /// The 1-minute load average.
    static func loadAverageNow() -> Double? {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))
            .flatMap { $0.split(separator: " ").first }
            .flatMap { Double($0) }
    }

    /// Runs a short command and returns its trimmed stdout, or nil (missing binary, failure, or 5 s passed).
    private static func run(_ executable: String, _ arguments: [String]) -> String? {
        guard FileManager.default.isExecutableFile(atPath: executable) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let deadline = MonotonicClock.nowNs() + 5_000_000_000
        while process.isRunning, MonotonicClock.nowNs() < deadline { MonotonicClock.sleep(seconds: 0.01) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
