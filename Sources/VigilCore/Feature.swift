/// The features of the contract's catalogs, in the order of the feature vector: catalog 1's sixteen first, then the
/// card windows and merchant features catalog 2 adds (`FeatureCatalog`).
public enum Feature: Int, CaseIterable, Sendable {
    case amount
    case count1m
    case count10m
    case count1h
    case count24h
    case sum1h
    case sum24h
    case distinctMerchants1h
    case distinctCountries24h
    case newMerchant24h
    case secondsSinceLast
    case countryChanged
    case geoVelocityKmh
    case amountVsAvg
    case cardNotPresent
    case highRiskMcc
    // Catalog 2: card windows over UTC days.
    case count7d
    case count30d
    case meanAmount7d
    case meanAmount30d
    // Catalog 2: the merchant's risk in the served snapshot (docs/merchant-risk.md).
    case merchantTx1d
    case merchantTx7d
    case merchantTx30d
    case merchantFraudRate1d
    case merchantFraudRate7d
    case merchantFraudRate30d

    /// Number of features in the largest catalog (the feature vector's length).
    public static let count = 26

    /// The feature's name in the contract, model files and feature records.
    public var name: String { staticName.description }

    /// Looks a feature up by its catalog name.
    public init?(name: String) {
        guard let match = Feature.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

extension Feature {
    /// The catalog name as a `StaticString`, for the JSON writer.
    public var staticName: StaticString {
        switch self {
        case .amount: "amount"
        case .count1m: "count_1m"
        case .count10m: "count_10m"
        case .count1h: "count_1h"
        case .count24h: "count_24h"
        case .sum1h: "sum_1h"
        case .sum24h: "sum_24h"
        case .distinctMerchants1h: "distinct_merchants_1h"
        case .distinctCountries24h: "distinct_countries_24h"
        case .newMerchant24h: "new_merchant_24h"
        case .secondsSinceLast: "seconds_since_last"
        case .countryChanged: "country_changed"
        case .geoVelocityKmh: "geo_velocity_kmh"
        case .amountVsAvg: "amount_vs_avg"
        case .cardNotPresent: "card_not_present"
        case .highRiskMcc: "high_risk_mcc"
        case .count7d: "count_7d"
        case .count30d: "count_30d"
        case .meanAmount7d: "mean_amount_7d"
        case .meanAmount30d: "mean_amount_30d"
        case .merchantTx1d: "merchant_tx_1d"
        case .merchantTx7d: "merchant_tx_7d"
        case .merchantTx30d: "merchant_tx_30d"
        case .merchantFraudRate1d: "merchant_fraud_rate_1d"
        case .merchantFraudRate7d: "merchant_fraud_rate_7d"
        case .merchantFraudRate30d: "merchant_fraud_rate_30d"
        }
    }
}
