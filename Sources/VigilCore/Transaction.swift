/// How the card was used. The wire values are `"pos"`, `"ecom"` and `"atm"`.
public enum Channel: UInt8, Sendable, CaseIterable {
    case pos, ecom, atm

    /// The contract's wire spelling.
    public var wireName: String {
        switch self {
        case .pos: "pos"
        case .ecom: "ecom"
        case .atm: "atm"
        }
    }
}

/// A point on the earth in degrees (WGS 84).
public struct GeoPoint: Sendable, Equatable {
    public var lat: Double
    public var lon: Double

    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }
}

/// One card payment, as published on the `transactions` topic (contract v1),
/// after validation.
public struct Transaction: Sendable, Equatable {
    public var transactionId: String
    public var cardId: String
    /// The amount in the currency's minor unit, `1...10^12`.
    public var amountMinor: Int64
    public var currency: CurrencyCode
    public var merchantId: String
    /// The merchant category code, `0...9999` (`"0742"` is 742).
    public var mcc: UInt16
    public var country: CountryCode
    public var channel: Channel
    /// Where the payment happened, if the payment system knows.
    public var location: GeoPoint?
    /// When the payment happened, milliseconds since the Unix epoch (UTC).
    public var eventTimeMs: Int64

    public init(
        transactionId: String, cardId: String, amountMinor: Int64, currency: CurrencyCode,
        merchantId: String, mcc: UInt16, country: CountryCode, channel: Channel,
        location: GeoPoint?, eventTimeMs: Int64
    ) {
        self.transactionId = transactionId
        self.cardId = cardId
        self.amountMinor = amountMinor
        self.currency = currency
        self.merchantId = merchantId
        self.mcc = mcc
        self.country = country
        self.channel = channel
        self.location = location
        self.eventTimeMs = eventTimeMs
    }
}
