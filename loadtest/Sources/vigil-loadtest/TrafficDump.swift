import Foundation

/// `--print-traffic N`: writes the first N messages a run of these settings would publish, one line each, and
/// publishes nothing. Event time starts at a fixed instant (2026-01-01 00:00 UTC) instead of the wall clock, so two
/// invocations with the same seed and flags print the same bytes: a check that the traffic, and the attack's mix
/// with it, depend on the seed alone. A line is `<index> <normal|attack> <key> <value>`.
enum TrafficDump {
    static let startMs: Int64 = 1_767_225_600_000

    static func write(settings: LoadTestSettings, count: Int) {
        var source = TrafficSource(
            profile: settings.profile, startMs: startMs, timeScale: settings.timeScale, attack: settings.attack)
        let schedule = settings.schedule
        var out = Data()
        for i in 0..<count {
            let t = settings.mode == .max ? Double(i) / Double(settings.mix.totalRate) : schedule.time(of: i)
            let (message, isAttack) = source.next(atSeconds: t)
            out.append(contentsOf: Array("\(i) \(isAttack ? "attack" : "normal") ".utf8))
            out.append(contentsOf: message.key ?? Array("-".utf8))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: message.value)
            out.append(UInt8(ascii: "\n"))
            if out.count > 1 << 20 {
                FileHandle.standardOutput.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        FileHandle.standardOutput.write(out)
    }
}
