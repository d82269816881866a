/// One value per feature of the largest catalog, stored inline (no heap allocation).
public struct FeatureVector: Sendable, Equatable {
    public var values: InlineArray<26, Double>

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

extension FeatureVector {
    /// Sets the six merchant features of catalog 2.
    public mutating func setMerchant(_ m: MerchantRiskFeatures) {
        self[.merchantTx1d] = m.transactions1d
        self[.merchantTx7d] = m.transactions7d
        self[.merchantTx30d] = m.transactions30d
        self[.merchantFraudRate1d] = m.fraudRate1d
        self[.merchantFraudRate7d] = m.fraudRate7d
        self[.merchantFraudRate30d] = m.fraudRate30d
    }
}
