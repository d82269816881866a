/// A position in fixed point (1e-5 degrees, about a metre), written to JSON with five decimals.
struct GeoPoint: Sendable, Equatable {
    var latE5: Int64
    var lonE5: Int64

    init(lat: Double, lon: Double) {
        latE5 = Int64((min(max(lat, -90), 90) * 100_000).rounded())
        lonE5 = Int64((min(max(lon, -180), 180) * 100_000).rounded())
    }
}
