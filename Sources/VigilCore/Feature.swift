/// The features of the contract's catalog, version 1, in the order of the feature vector.
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

    /// Number of features in the catalog.
    public static let count = 16

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
        }
    }
}
