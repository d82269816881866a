/// The ways a generated message breaks the wire contract; each must end in `fraud.dlq`.
public enum MalformedKind: String, Sendable, CaseIterable {
    /// Pipe-separated text, not JSON at all.
    case notJSON
    /// A valid transaction cut off before its end.
    case truncated
    /// A valid transaction without one of its required fields.
    case missingField
    /// `amount_minor` is 0 or negative.
    case badAmount
    /// `currency` is not upper-case alpha-3 (`"EURO"` or lower case).
    case badCurrency
    /// The Kafka key is another card's id.
    case keyMismatch
    /// `channel` is `"web"`.
    case badChannel
    /// A valid transaction padded with a huge unknown field to more than 16 KiB.
    case oversized
}
