import VigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The transform a model applies to a raw feature value before standardizing it; the same three the model file
/// format knows, computed exactly as `CompiledModel` does.
public enum FeatureTransform: Sendable, Equatable, CustomStringConvertible {
    case identity
    /// `log1p(max(x, 0))`.
    case log1p
    case clip(min: Double, max: Double)

    @inline(__always)
    public func apply(_ x: Double) -> Double {
        switch self {
        case .identity: return x
        case .log1p: return Glibc_log1p(Swift.max(x, 0))
        case .clip(let lo, let hi): return Swift.min(Swift.max(x, lo), hi)
        }
    }

    /// The model file's name of the transform.
    public var name: String {
        switch self {
        case .identity: "identity"
        case .log1p: "log1p"
        case .clip: "clip"
        }
    }

    /// `identity`, `log1p` or `clip:MIN:MAX`.
    public var description: String {
        if case .clip(let lo, let hi) = self { return "clip:\(lo):\(hi)" }
        return name
    }

    /// Parses `identity`, `log1p` or `clip:MIN:MAX`.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.first {
        case "identity" where parts.count == 1: self = .identity
        case "log1p" where parts.count == 1: self = .log1p
        case "clip" where parts.count == 3:
            guard let lo = Double(parts[1]), let hi = Double(parts[2]) else { return nil }
            self = .clip(min: lo, max: hi)
        default: return nil
        }
    }
}

@inline(__always)
private func Glibc_log1p(_ x: Double) -> Double { log1p(x) }

/// One transform per catalog feature.
public struct TransformPlan: Sendable, Equatable {
    public var transforms: [FeatureTransform]

    /// log1p for counts, sums, amounts, gaps, speeds and ratios (heavy right tails, risk grows with the order of
    /// magnitude); identity for the 0/1 flags.
    public static let standard = TransformPlan(transforms: Feature.allCases.map { feature in
        switch feature {
        case .newMerchant24h, .countryChanged, .cardNotPresent, .highRiskMcc: .identity
        default: .log1p
        }
    })

    public init(transforms: [FeatureTransform]) {
        precondition(transforms.count == Feature.count)
        self.transforms = transforms
    }

    public subscript(feature: Feature) -> FeatureTransform {
        get { transforms[feature.rawValue] }
        set { transforms[feature.rawValue] = newValue }
    }

    public func problems() -> [String] {
        var problems: [String] = []
        for feature in Feature.allCases {
            if case .clip(let lo, let hi) = self[feature], !(lo.isFinite && hi.isFinite && lo < hi) {
                problems.append("transform of \(feature.name): clip needs finite min < max")
            }
        }
        return problems
    }
}
