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

    /// How `--profiles` measures it: throughput (`--max`) for normal and hot cards, latency (open loop at a fixed
    /// rate) for the attack, whose question is what it does to everyone else's latency.
    var suiteMode: LoadTestSettings.Mode { self == .attack ? .rate : .max }

    /// Parses `normal,hot,attack`: known names, each at most once, in the order given.
    static func list(_ text: String) throws -> [LoadProfile] {
        var profiles: [LoadProfile] = []
        for name in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let profile = LoadProfile(rawValue: name) else {
                throw LoadTestError("unknown profile '\(name)' (known: \(allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            guard !profiles.contains(profile) else { throw LoadTestError("profile '\(name)' is listed twice") }
            profiles.append(profile)
        }
        guard !profiles.isEmpty else { throw LoadTestError("no profile given") }
        return profiles
    }
}
