/// One value per catalog feature, stored inline (no heap allocation).
public struct FeatureVector: Sendable, Equatable {
    public var values: InlineArray<16, Double>

    public init() {
        values = InlineArray(repeating: 0)
    }

    public subscript(feature: Feature) -> Double {
        get { values[feature.rawValue] }
        set { values[feature.rawValue] = newValue }
    }

    public static func == (lhs: FeatureVector, rhs: FeatureVector) -> Bool {
        for i in 0..<Feature.count where lhs.values[i] != rhs.values[i] { return false }
        return true
    }
}
