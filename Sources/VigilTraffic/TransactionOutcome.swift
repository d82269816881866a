import VigilCore

/// Where one transaction ended in Vigil's outputs, as read back from Kafka: a verdict on `fraud.decisions`, or a
/// copy on `fraud.late` or `fraud.dlq` (unscored). The contract puts every input message in exactly one of them.
public enum TransactionOutcome: Sendable, Equatable {
    case decided(Verdict)
    case late
    case deadLettered
}
