import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time and resident memory of a process, from Linux's /proc.
struct ProcessUsage: Sendable {
    /// User plus system CPU time since the process started, in seconds.
    var cpuSeconds: Double
    /// Resident set size (VmRSS), bytes.
    var rssBytes: Int64
    var threads: Int

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Reads /proc/<pid>/stat (utime, stime) and /proc/<pid>/status (VmRSS, Threads); nil if the process is gone.
    static func read(pid: Int32) -> ProcessUsage? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // After "pid (comm)": field 3 is the state; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        var rss: Int64 = 0
        var threads = 0
        for line in status.split(separator: "\n") {
            if line.hasPrefix("VmRSS:") {
                rss = Int64(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0").map { $0 * 1024 } ?? 0
            } else if line.hasPrefix("Threads:") {
                threads = Int(line.split(separator: "\t", omittingEmptySubsequences: true).last?.trimmingCharacters(in: .whitespaces) ?? "0") ?? 0
            }
        }
        return ProcessUsage(cpuSeconds: (utime + stime) / ticksPerSecond, rssBytes: rss, threads: threads)
    }
}
