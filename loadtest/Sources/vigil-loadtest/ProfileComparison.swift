import Foundation

/// `--profiles`: one run per profile, in the order given, each against a fresh Vigil, mock Kafka and Redis (same
/// binaries, same machine, one after another), each writing its own report; then one table side by side, printed
/// and written as the comparison's report.md and summary.json.
struct ProfileComparison {
    let base: LoadTestSettings
    let runs: [LoadProfile.Run]
    /// Set by Ctrl-C / SIGTERM: ends the current run and skips the rest.
    let signals: StopFlag
    let interrupted: Locked<Bool>

    func execute() throws {
        let startedAt = Date()
        let directory = try makeDirectory(startedAt: startedAt)
        Console.line("vigil-loadtest: comparing \(runs.map(\.name).joined(separator: ", ")), one fresh Vigil each")
        Console.line("  report: \(directory)")
        var entries: [ProfileComparisonTable.Entry] = []
        for (i, run) in runs.enumerated() where !signals.isSet {
            let (profile, mode) = (run.profile, run.mode)
            let runDirectory = directory + "/" + run.name
            Console.line("")
            Console.line("== profile \(i + 1) of \(runs.count): \(profile.rawValue) (\(mode == .max ? "--max" : "open loop"))")
            let settings = base.forProfile(profile, mode: mode, reportDir: runDirectory)
            let (result, failure) = LoadTestRun(settings: settings, signals: signals, interrupted: interrupted).measure()
            if let failure { Console.error("profile \(profile.rawValue): \(failure)") }
            entries.append(.init(
                profile: profile, mode: mode, settings: settings, result: result, failure: failure.map { "\($0)" },
                reportDirectory: runDirectory))
        }
        let table = ProfileComparisonTable(entries: entries, startedAt: ISO8601DateFormatter().string(from: startedAt))
        Console.line("")
        Console.line(table.text())
        do {
            try table.markdown(commandLine: base.commandLine).write(toFile: directory + "/report.md", atomically: true, encoding: .utf8)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            try encoder.encode(table.figures()).write(to: URL(fileURLWithPath: directory + "/summary.json"))
            Console.line("Report: \(directory)/report.md")
        } catch {
            Console.error("could not write the comparison report: \(error)")
        }
        let failed = entries.filter { $0.failure != nil }.map(\.name)
        if !failed.isEmpty { throw LoadTestError("\(failed.joined(separator: ", ")) failed (see above)") }
        if entries.count < runs.count { throw LoadTestError("interrupted after \(entries.count) of \(runs.count) runs") }
    }

    private func makeDirectory(startedAt: Date) throws -> String {
        let path: String
        if let given = base.reportDir {
            path = given
        } else {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd-HHmmss"
            path = "loadtest/reports/\(formatter.string(from: startedAt))-profiles"
        }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        do {
            try FileManager.default.createDirectory(atPath: absolute, withIntermediateDirectories: true)
        } catch {
            throw LoadTestError("cannot create the report directory \(absolute): \(error)")
        }
        return absolute
    }
}
