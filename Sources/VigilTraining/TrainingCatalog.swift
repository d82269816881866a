import VigilCore

/// The feature catalog a training run fits on: the features its history records carry (docs/contract.md, feature
/// catalogs). Records of schema version 1 carry catalog v1, the 16 features named below; records of schema version 2
/// carry `catalog_version` 2, every feature of the running catalog (`Feature.allCases`). A model names exactly the
/// features of the catalog it was fitted on, so a model fitted on v1 history loads where only v1 is served.
public struct TrainingCatalog: Sendable, Equatable, CustomStringConvertible {
    public var version: Int
    /// The model's features, in catalog order.
    public var features: [Feature]

    /// Catalog v1 as the contract fixed it; it never changes.
    public static let v1Names = [
        "amount", "count_1m", "count_10m", "count_1h", "count_24h", "sum_1h", "sum_24h", "distinct_merchants_1h",
        "distinct_countries_24h", "new_merchant_24h", "seconds_since_last", "country_changed", "geo_velocity_kmh",
        "amount_vs_avg", "card_not_present", "high_risk_mcc",
    ]

    public static let v1 = TrainingCatalog(version: 1, features: Feature.allCases.filter { v1Names.contains($0.name) })
    public static let v2 = TrainingCatalog(version: 2, features: Array(Feature.allCases))

    public static func version(_ n: Int) -> TrainingCatalog? {
        switch n {
        case 1: .v1
        case 2: .v2
        default: nil
        }
    }

    /// Bit `slot` is set for every feature of the catalog.
    public var mask: UInt64 { features.reduce(0) { $0 | (1 << UInt64($1.rawValue)) } }

    public var description: String { "catalog v\(version) (\(features.count) features)" }
}

/// Which catalog `vigil train` fits on (`--catalog`).
public enum CatalogChoice: String, Sendable, CaseIterable {
    /// v2 when every record is v2; v1 (the features every record has) as soon as one record is v1.
    case auto
    /// The v1 features of every record.
    case v1 = "1"
    /// Only the v2 records, with all their features; v1 records are left out (and counted).
    case v2 = "2"
}
