import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The process's own resource use, read from Linux's /proc (the standard `process_*` metrics of Prometheus clients).
public struct ProcessStats: Sendable, Equatable {
    public var cpuSeconds: Double
    public var residentBytes: Int
    public var virtualBytes: Int
    public var openFiles: Int
    public var maxFiles: Int
    /// Since the Unix epoch.
    public var startTimeSeconds: Double

    /// When this process started, as far as it knows without /proc/stat: `recordStart()` as early as possible.
    private static let recordedStartSeconds = Mutex<Double?>(nil)

    /// Notes the start time now, for when /proc/stat cannot be read (systemd's `ProcSubset=pid` hides it).
    public static func recordStart() {
        recordedStartSeconds.withLock { if $0 == nil { $0 = Date().timeIntervalSince1970 } }
    }

    /// Now, for this process; nil where /proc/self is not there (not Linux).
    public static func current() -> ProcessStats? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8) else { return nil }
        // /proc/stat (its btime, for the start time) is hidden under ProcSubset=pid: then the recorded start.
        let system = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8)) ?? ""
        let openFiles = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map { max(0, $0 - 1) } ?? 0
        var limit = rlimit()
        let maxFiles = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Int(clamping: limit.rlim_cur) : 0
        guard var stats = parse(
            stat: stat, systemStat: system, ticksPerSecond: Int(sysconf(Int32(_SC_CLK_TCK))),
            pageSize: Int(sysconf(Int32(_SC_PAGESIZE))), openFiles: openFiles, maxFiles: maxFiles)
        else { return nil }
        if !system.contains("btime ") {
            stats.startTimeSeconds = recordedStartSeconds.withLock { $0 } ?? 0
        }
        return stats
    }

    /// From the texts of /proc/self/stat and /proc/stat (`btime`). The fields are counted after the command's closing
    /// parenthesis, since the command name may itself hold spaces and parentheses.
    static func parse(stat: String, systemStat: String, ticksPerSecond: Int, pageSize: Int, openFiles: Int, maxFiles: Int) -> ProcessStats? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // After ")": field 3 (state) is index 0, so field N is index N - 3.
        let fields = stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        func field(_ n: Int) -> Double? { n - 3 < fields.count ? Double(fields[n - 3]) : nil }
        guard let utime = field(14), let stime = field(15), let start = field(22), let vsize = field(23), let rss = field(24),
              ticksPerSecond > 0
        else { return nil }
        let bootTime = systemStat.split(separator: "\n").first { $0.hasPrefix("btime ") }
            .flatMap { Double($0.dropFirst(6).trimmingCharacters(in: .whitespaces)) } ?? 0
        let ticks = Double(ticksPerSecond)
        return ProcessStats(
            cpuSeconds: (utime + stime) / ticks, residentBytes: Int(rss) * pageSize, virtualBytes: Int(vsize),
            openFiles: openFiles, maxFiles: maxFiles, startTimeSeconds: bootTime + start / ticks)
    }
}
