/// What the analyst asked to see: verdicts, a minimum score, open or worked alerts.
public struct QueueFilter: Sendable, Equatable {
    public enum State: String, Sendable, CaseIterable {
        case all, open, worked
    }

    /// Verdicts shown (`review`, `block`); empty shows both.
    public var verdicts: Set<String>
    public var minimumScore: Double
    public var state: State
    /// Most alerts in one answer.
    public var limit: Int

    public init(verdicts: Set<String> = [], minimumScore: Double = 0, state: State = .all, limit: Int = 200) {
        self.verdicts = verdicts
        self.minimumScore = minimumScore
        self.state = state
        self.limit = max(1, min(limit, 1000))
    }

    func admits(_ alert: ConsoleAlert, worked: Bool) -> Bool {
        guard verdicts.isEmpty || verdicts.contains(alert.verdict), alert.score >= minimumScore else { return false }
        switch state {
        case .all: return true
        case .open: return !worked
        case .worked: return worked
        }
    }

    /// Reads the page's query parameters (`verdict=block,review`, `min_score=0.5`, `state=open`, `limit=100`);
    /// anything unreadable keeps its default.
    public init(query: [String: String]) {
        let verdicts = (query["verdict"] ?? "").split(separator: ",").map(String.init).filter { $0 == "review" || $0 == "block" }
        let score = query["min_score"].flatMap(Double.init).map { $0.isFinite ? $0 : 0 } ?? 0
        self.init(
            verdicts: Set(verdicts), minimumScore: score, state: query["state"].flatMap(State.init(rawValue:)) ?? .all,
            limit: query["limit"].flatMap(Int.init) ?? 200)
    }
}
