import VigilCore

/// Which feature catalog `vigil train` fits on (`--catalog`). Records of schema version 1 carry catalog 1, records of
/// schema version 2 catalog 2 (`FeatureCatalog`); a model names exactly the features of the catalog it was fitted on,
/// so a model fitted on catalog-1 history loads where only catalog 1 is served.
public enum CatalogChoice: String, Sendable, CaseIterable {
    /// Catalog 2 when every record is of catalog 2; catalog 1 (the features every record has) as soon as one is not.
    case auto
    /// Catalog 1's features of every record.
    case v1 = "1"
    /// Only the catalog-2 records, with all their features; catalog-1 records are left out (and counted).
    case v2 = "2"
}
