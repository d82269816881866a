/// One Kafka message for the `transactions` topic, with what the generator knows about it.
public struct GeneratedMessage: Sendable, Equatable {
    /// The Kafka key: the card id's bytes, except for `MalformedKind.keyMismatch`.
    public var key: [UInt8]?
    /// The message value: compact UTF-8 JSON per the contract, or deliberately broken bytes when `malformed` is set.
    public var value: [UInt8]
    /// The label of a well-formed transaction; nil for malformed messages.
    public var truth: GroundTruth?
    /// How the message breaks the contract, or nil if it honours it.
    public var malformed: MalformedKind?
    /// True if the event time was deliberately shifted back beyond the default allowed lateness (2-6 h before
    /// `nowMs`). Vigil only treats it as late once its partition has seen recent events.
    public var isLate: Bool

    public init(key: [UInt8]?, value: [UInt8], truth: GroundTruth?, malformed: MalformedKind?, isLate: Bool) {
        self.key = key
        self.value = value
        self.truth = truth
        self.malformed = malformed
        self.isLate = isLate
    }
}
