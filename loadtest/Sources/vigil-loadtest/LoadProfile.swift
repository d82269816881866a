import Foundation

/// Which traffic a run sends (`--profile`, or several with `--profiles`): issue 13's comparison of ordinary cards,
/// hot cards and a card-testing attack, measured on the same build and machine.
enum LoadProfile: String, Sendable, Codable, CaseIterable {
    /// The generator's traffic over `--cards` cards (100,000 by default): a card pays every few hours of event time.
    case normal
    /// The same traffic over `--hot-cards` cards (300 by default): each card holds hundreds of events, so every
    /// transaction reads, scans and rewrites a large card state.
    case hot
    /// Normal traffic at `--rate` plus a card-testing attack on one card at `--attack-rate` (`CardTestingAttack`).
    /// Latency is reported for the normal traffic and for the attack card apart.
    case attack

    /// How `--profiles` measures it unless told: throughput (`--max`) for normal and hot cards, latency (open loop
    /// at a fixed rate) for the attack, whose question is what it does to everyone else's latency.
    var suiteMode: LoadTestSettings.Mode { self == .attack ? .rate : .max }

    /// One run of a comparison: a profile and how it is measured.
    struct Run: Sendable, Equatable {
        var profile: LoadProfile
        var mode: LoadTestSettings.Mode

        /// `normal-max`, `attack-rate`: the run's report subdirectory and its column's name.
        var name: String { "\(profile.rawValue)-\(mode.rawValue)" }
    }

    /// Parses `normal,hot,attack`: known names, each with its `suiteMode`, or with `:max` or `:open` for the other
    /// mode (`normal:open`, the attack's normal traffic alone); each pair at most once, in the order given.
    static func list(_ text: String) throws -> [Run] {
        var runs: [Run] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            guard let profile = parts.first.flatMap(LoadProfile.init(rawValue:)) else {
                throw LoadTestError("unknown profile '\(item)' (known: \(allCases.map(\.rawValue).joined(separator: ", ")), each optionally with :max or :open)")
            }
            var mode = profile.suiteMode
            if parts.count == 2 {
                switch parts[1] {
                case "max": mode = .max
                case "open": mode = .rate
                default: throw LoadTestError("'\(item)': the mode after ':' is max or open")
                }
            }
            let run = Run(profile: profile, mode: mode)
            guard !runs.contains(run) else { throw LoadTestError("'\(item)' is listed twice") }
            runs.append(run)
        }
        guard !runs.isEmpty else { throw LoadTestError("no profile given") }
        return runs
    }
}
