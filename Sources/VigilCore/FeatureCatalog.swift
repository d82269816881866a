/// The feature catalogs of the contract (`docs/contract.md`). A running Vigil serves one: catalog 1 is what Vigil
/// served before merchant risk (sixteen card features, feature records of schema version 1, no merchant lookups);
/// catalog 2 adds the card's 7- and 30-day windows and the six merchant features (feature records of schema version
/// 2). Each catalog's features are the first `count` of `Feature`, so a catalog serves a feature when its slot is
/// below `count`.
public enum FeatureCatalog: Int, Sendable, CaseIterable, CustomStringConvertible {
    case v1 = 1
    case v2 = 2

    /// What `vigil serve` runs when nothing else is set.
    public static let `default` = FeatureCatalog.v2

    /// Number of features the catalog serves.
    public var count: Int {
        switch self {
        case .v1: 16
        case .v2: Feature.count
        }
    }

    /// The catalog's features, in feature-vector order.
    public var features: ArraySlice<Feature> { Feature.allCases[..<count] }

    public func serves(_ feature: Feature) -> Bool { feature.rawValue < count }

    /// The `schema_version` of the feature records Vigil writes under this catalog.
    public var featureRecordSchemaVersion: Int64 { Int64(rawValue) }

    /// Whether batches look their merchants up in the served merchant-risk snapshot.
    public var needsMerchantRisk: Bool { self == .v2 }

    public var description: String { "catalog \(rawValue)" }
}

extension CompiledModel {
    /// Throws `.notServed` for the first feature the model names that `catalog` does not serve: a model must not
    /// be scored with a feature that is always 0 because the running catalog never computes it.
    public func check(servedBy catalog: FeatureCatalog) throws(ModelError) {
        for term in file.features {
            guard let feature = Feature(name: term.name) else { throw .unknownFeature(term.name) }
            if !catalog.serves(feature) { throw .notServed(feature: term.name, catalog: catalog.rawValue) }
        }
    }

    /// Compiles a model file and checks that `catalog` serves every feature it names.
    public init(_ file: ModelFile, servedBy catalog: FeatureCatalog) throws(ModelError) {
        try self.init(file)
        try check(servedBy: catalog)
    }
}
