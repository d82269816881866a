/// Where one published transaction ended, as read back from Vigil's output topics.
enum Outcome: UInt8, Sendable {
    case pending = 0
    case approve, review, block
    case late

    var isDecision: Bool { self == .approve || self == .review || self == .block }

    /// The verdict of a decision message from the first byte of its `verdict` value.
    init?(verdictInitial byte: UInt8) {
        switch byte {
        case UInt8(ascii: "a"): self = .approve
        case UInt8(ascii: "r"): self = .review
        case UInt8(ascii: "b"): self = .block
        default: return nil
        }
    }
}

/// What the generator knows about a published message, packed in two bytes.
struct TruthFlags: OptionSet, Sendable {
    let rawValue: UInt16

    /// Well formed, with a ground-truth label (malformed messages have none).
    static let labelled = TruthFlags(rawValue: 1 << 0)
    static let fraud = TruthFlags(rawValue: 1 << 1)
    /// The generator shifted its event time beyond the default lateness.
    static let late = TruthFlags(rawValue: 1 << 2)
    static let malformed = TruthFlags(rawValue: 1 << 3)
    /// Published before the measurement (readiness check); left out of every figure.
    static let warmup = TruthFlags(rawValue: 1 << 4)

    /// Bits 5-7: the fraud pattern's index in `FraudPattern.allCases` plus one, 0 for none.
    static func pattern(_ index: Int?) -> TruthFlags {
        guard let index else { return [] }
        return TruthFlags(rawValue: UInt16(index + 1) << 5)
    }

    /// A payment of the card-testing attack (`LoadProfile.attack`): its latency is kept apart from the normal traffic's.
    static let attack = TruthFlags(rawValue: 1 << 8)

    var patternIndex: Int? {
        let value = Int((rawValue >> 5) & 0b111)
        return value == 0 ? nil : value - 1
    }
}
