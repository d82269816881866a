/// How a payment was made, as the contract spells it.
enum Channel: Sendable {
    case pos, ecom, atm

    var json: StaticString {
        switch self {
        case .pos: return "pos"
        case .ecom: return "ecom"
        case .atm: return "atm"
        }
    }
}

/// The fields of one transaction before it is written as JSON.
struct TransactionDraft: Sendable {
    /// Makes the transaction id unique within a generator.
    var sequence: Int
    var cardToken: UInt32
    var amountMinor: Int64
    var currency: Currency
    var merchant: Int
    var mcc: Int
    var country: Int
    var channel: Channel
    var location: GeoPoint?
    var eventTimeMs: Int64

    /// The largest amount the contract allows.
    static let maxAmountMinor: Int64 = 1_000_000_000_000

    /// Minor units for an amount in major units of `currency`: rounded, at least 1, at most the contract's maximum.
    static func minorUnits(_ major: Double, in currency: Currency) -> Int64 {
        let minor = (major * currency.minorPerMajor).rounded()
        if !(minor >= 1) { return 1 }
        if minor >= Double(maxAmountMinor) { return maxAmountMinor }
        return Int64(minor)
    }
}

/// The fields a transaction must have; `MalformedKind.missingField` drops one of them.
enum RequiredField: CaseIterable, Sendable {
    case schemaVersion, transactionId, cardId, amountMinor, currency, merchantId, mcc, country, channel, eventTimeMs
}

/// How a written transaction deviates from the contract, if at all.
enum Defect: Sendable {
    case none
    case missing(RequiredField)
    case amount(Int64)
    case currency(StaticString)
    case channel(StaticString)
    /// A valid unknown field `"padding"` holding this many bytes.
    case padding(Int)
}
