/// The contract's default topic names (docs/contract.md). The load test reads `decisions`, `late` and `dlq`:
/// every input message ends in exactly one of them, which is how the tool knows nothing was lost.
///
/// (VigilService's `Topics` holds the same defaults; this target does not depend on VigilService.)
struct OutputTopicNames: Sendable, Equatable {
    var transactions = "transactions"
    var decisions = "fraud.decisions"
    var alerts = "fraud.alerts"
    var features = "fraud.features"
    var late = "fraud.late"
    var dlq = "fraud.dlq"

    /// Every topic Vigil reads or writes, as the mock cluster must create them.
    var all: [String] { [transactions, decisions, alerts, features, late, dlq] }

    /// The topics where each input message ends, plus alerts (one per review or block decision).
    var outcomes: [String] { [decisions, alerts, late, dlq] }
}
