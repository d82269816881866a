import VigilCore

/// Builds valid transactions for tests with terse defaults.
func tx(
    _ id: String = "tx-1", card: String = "card-a", minor: Int64 = 1000, currency: String = "EUR",
    merchant: String = "m-1", mcc: UInt16 = 5411, country: String = "DE", channel: Channel = .pos,
    lat: Double? = nil, lon: Double? = nil, at t: Int64
) -> Transaction {
    Transaction(
        transactionId: id, cardId: card, amountMinor: minor, currency: CurrencyCode(currency)!,
        merchantId: merchant, mcc: mcc, country: CountryCode(country)!, channel: channel,
        location: lat.map { GeoPoint(lat: $0, lon: lon!) }, eventTimeMs: t)
}

let t0: Int64 = 1_764_000_000_000
let sec: Int64 = 1000
let minute: Int64 = 60_000
let hour: Int64 = 3_600_000
let day: Int64 = 86_400_000

/// Applies `history` to a fresh state in order, with the partition clock advancing as the pipeline does, and returns
/// the features of `e`.
func stateFeatures(_ e: Transaction, history: [Transaction], config: FeatureConfig = FeatureConfig()) -> FeatureVector {
    var state = CardState()
    var clock = PartitionClock()
    for p in history {
        clock.observe(p.eventTimeMs)
        state.apply(p, amount: p.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
    }
    return state.features(for: e, amount: e.amount, config: config)
}
