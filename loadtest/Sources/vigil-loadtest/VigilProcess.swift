import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `vigil serve` as a child process: started with the run's broker, Redis, group and prefix, its stdout and stderr
/// going to a log file, stopped with SIGTERM.
final class VigilProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is set once in `start` (main thread) before any other thread reads it.
    let executable: String
    let arguments: [String]
    let logPath: String
    private var process: Process?
    private(set) var launchedNs: Int64 = 0

    init(executable: String, arguments: [String], logPath: String) {
        self.executable = executable
        self.arguments = arguments
        self.logPath = logPath
    }

    /// The `vigil` binary: `explicit` if given, else the one next to this tool's own executable.
    static func locate(explicit: String?) throws -> String {
        if let explicit {
            let path = URL(fileURLWithPath: explicit).standardizedFileURL.path
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw LoadTestError("--vigil \(explicit): no executable file there")
            }
            return path
        }
        var directories: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            directories.append(URL(fileURLWithPath: exe).deletingLastPathComponent().path)
        }
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.deletingLastPathComponent().path
        if !directories.contains(argv0) { directories.append(argv0) }
        for directory in directories {
            let candidate = directory + "/vigil"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw LoadTestError(
            "the vigil binary was not found next to vigil-loadtest (looked in \(directories.joined(separator: ", "))). "
                + "Build it into the same directory: swift build -c release --scratch-path <same> --product vigil, "
                + "or pass --vigil PATH.")
    }

    /// Whether `vigil serve --help` lists `flag` (older binaries lack some; asking costs one short run).
    static func serveSupports(_ flag: String, executable: String) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["serve", "--help"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return false }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()  // ends when the process closes it
        let deadline = MonotonicClock.nowNs() + 5_000_000_000
        while process.isRunning, MonotonicClock.nowNs() < deadline { MonotonicClock.sleep(seconds: 0.01) }
        if process.isRunning { process.terminate() }
        return String(decoding: data, as: UTF8.self).contains(flag)
    }

    func start() throws {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw LoadTestError("cannot create Vigil's log file \(logPath)")
        }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: executable)
        child.arguments = arguments
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = log
        child.standardError = log
        do {
            try child.run()
        } catch {
            throw LoadTestError("cannot run \(executable): \(error)")
        }
        try? log.close()
        launchedNs = MonotonicClock.nowNs()
        process = child
    }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    var isRunning: Bool { process?.isRunning ?? false }

    /// "exited with status N" / "was killed by signal N", once it has ended.
    var exitDescription: String {
        guard let process, !process.isRunning else { return "is running" }
        return process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)"
            : "exited with status \(process.terminationStatus)"
    }

    /// A run-ending error for Vigil having stopped on its own, with the end of its log.
    func unexpectedExit(while doing: String) -> LoadTestError {
        LoadTestError("vigil serve \(exitDescription) \(doing). Last lines of its output (\(logPath)):\n\(logTail())")
    }

    struct StopResult: Sendable, Codable {
        var signalled: Bool
        var exitedWithinTimeout: Bool
        var seconds: Double
        var exit: String
    }

    /// SIGTERM, then waits up to `timeoutSeconds` for the process to exit; SIGKILL if it does not.
    func stop(timeoutSeconds: Double = 10) -> StopResult {
        guard let process else { return StopResult(signalled: false, exitedWithinTimeout: true, seconds: 0, exit: "never started") }
        guard process.isRunning else {
            return StopResult(signalled: false, exitedWithinTimeout: true, seconds: 0, exit: exitDescription)
        }
        let start = MonotonicClock.nowNs()
        kill(process.processIdentifier, SIGTERM)
        let deadline = start + Int64(timeoutSeconds * 1e9)
        while process.isRunning, MonotonicClock.nowNs() < deadline { MonotonicClock.sleep(seconds: 0.02) }
        let seconds = Double(MonotonicClock.nowNs() - start) / 1e9
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return StopResult(signalled: true, exitedWithinTimeout: false, seconds: seconds, exit: "killed with SIGKILL after \(Int(timeoutSeconds)) s")
        }
        process.waitUntilExit()
        return StopResult(signalled: true, exitedWithinTimeout: true, seconds: seconds, exit: exitDescription)
    }

    /// The last `lines` lines of Vigil's output.
    func logTail(lines: Int = 25) -> String {
        guard let data = FileManager.default.contents(atPath: logPath), !data.isEmpty else { return "(no output)" }
        let text = String(decoding: data.suffix(64 * 1024), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
