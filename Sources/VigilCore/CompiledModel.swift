#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A model file compiled for scoring: every term resolved to its feature slot and standardization folded into the
/// weights, so a score is one pass over the feature vector and a sigmoid, with no lookups and no allocation.
public struct CompiledModel: Sendable {
    enum Transform: UInt8, Sendable { case identity, log1p, clip }

    public let version: String
    public let thresholds: ModelFile.Thresholds
    public let file: ModelFile

    /// Per slot: transform, clip bounds, folded weight `w / std`, and the offset `w * mean / std`.
    var transforms: InlineArray<26, Transform>
    var clipMin: InlineArray<26, Double>
    var clipMax: InlineArray<26, Double>
    var weights: InlineArray<26, Double>
    var offsets: InlineArray<26, Double>
    /// `bias - sum(offsets)`.
    let intercept: Double

    /// Validates and compiles a model file; every problem is reported with what is wrong where.
    public init(_ file: ModelFile) throws(ModelError) {
        guard !file.version.isEmpty, file.version.utf8.count <= 128 else {
            throw .malformed("version must be 1-128 bytes")
        }
        guard file.bias.isFinite else { throw .badNumber("bias is not finite") }
        let t = file.thresholds
        guard t.review.isFinite, t.block.isFinite, t.review > 0, t.block < 1, t.review <= t.block else {
            throw .badThresholds("need 0 < review <= block < 1, got review \(t.review), block \(t.block)")
        }
        transforms = InlineArray(repeating: .identity)
        clipMin = InlineArray(repeating: -Double.infinity)
        clipMax = InlineArray(repeating: Double.infinity)
        weights = InlineArray(repeating: 0)
        offsets = InlineArray(repeating: 0)
        var seen = Set<Int>()
        var offsetSum = 0.0
        for term in file.features {
            guard let feature = Feature(name: term.name) else { throw .unknownFeature(term.name) }
            let slot = feature.rawValue
            guard seen.insert(slot).inserted else { throw .duplicateFeature(term.name) }
            guard term.weight.isFinite else { throw .badNumber("weight of '\(term.name)' is not finite") }
            guard term.mean.isFinite else { throw .badNumber("mean of '\(term.name)' is not finite") }
            guard term.std.isFinite, term.std > 0 else {
                throw .badNumber("std of '\(term.name)' must be finite and > 0, got \(term.std)")
            }
            switch term.transform {
            case "identity": transforms[slot] = .identity
            case "log1p": transforms[slot] = .log1p
            case "clip":
                guard let lo = term.min, let hi = term.max, lo.isFinite, hi.isFinite, lo < hi else {
                    throw .badTransform(feature: term.name, "clip needs finite min < max")
                }
                transforms[slot] = .clip
                clipMin[slot] = lo
                clipMax[slot] = hi
            default:
                throw .badTransform(feature: term.name, "unknown transform '\(term.transform)' (identity, log1p, clip)")
            }
            weights[slot] = term.weight / term.std
            offsets[slot] = term.weight * term.mean / term.std
            offsetSum += offsets[slot]
        }
        intercept = file.bias - offsetSum
        guard intercept.isFinite else { throw .badNumber("weights overflow") }
        version = file.version
        thresholds = file.thresholds
        self.file = file
    }

    @inline(__always)
    func transformed(_ x: Double, slot: Int) -> Double {
        switch transforms[slot] {
        case .identity: return x
        case .log1p: return log1p(Swift.max(x, 0))
        case .clip: return Swift.min(Swift.max(x, clipMin[slot]), clipMax[slot])
        }
    }

    /// The linear score (log-odds) of a feature vector.
    public func logit(_ x: FeatureVector) -> Double {
        var z = intercept
        for slot in 0..<Feature.count { z += weights[slot] * transformed(x.values[slot], slot: slot) }
        return z
    }

    /// Score in [0, 1], verdict and the top three positive contributions.
    public func score(_ x: FeatureVector) -> Score {
        var z = intercept
        var top = Reasons()
        for slot in 0..<Feature.count where weights[slot] != 0 {
            let term = weights[slot] * transformed(x.values[slot], slot: slot)
            z += term
            top.offer(slot: slot, contribution: term - offsets[slot])
        }
        let p = 1 / (1 + exp(-z))
        let verdict: Verdict = p >= thresholds.block ? .block : (p >= thresholds.review ? .review : .approve)
        return Score(value: p, verdict: verdict, reasons: top)
    }
}

public enum Verdict: UInt8, Sendable, CaseIterable {
    case approve, review, block

    public var name: String {
        switch self {
        case .approve: "approve"
        case .review: "review"
        case .block: "block"
        }
    }
}

/// The outcome of scoring one feature vector.
public struct Score: Sendable, Equatable {
    public var value: Double
    public var verdict: Verdict
    public var reasons: Reasons

    /// A score as a model gave it (`CompiledModel.score` makes them; this is for messages built elsewhere, such as
    /// fixtures).
    public init(value: Double, verdict: Verdict, reasons: Reasons = Reasons()) {
        self.value = value
        self.verdict = verdict
        self.reasons = reasons
    }
}

/// Up to three features with the largest positive contributions `w * (transform(x) - mean) / std`, largest first.
public struct Reasons: Sendable, Equatable {
    public private(set) var count = 0
    var slots: InlineArray<3, Int> = InlineArray(repeating: 0)
    var contributions: InlineArray<3, Double> = InlineArray(repeating: 0)

    public init() {}

    /// These features and contributions, kept as scoring keeps them: the three largest positive ones, largest first.
    public init(_ reasons: [(feature: Feature, contribution: Double)]) {
        for reason in reasons { offer(slot: reason.feature.rawValue, contribution: reason.contribution) }
    }

    public subscript(i: Int) -> (feature: Feature, contribution: Double) {
        (Feature(rawValue: slots[i])!, contributions[i])
    }

    mutating func offer(slot: Int, contribution: Double) {
        guard contribution > 0 else { return }
        var i = count
        if i == 3 {
            guard contribution > contributions[2] else { return }
            i = 2
        } else {
            count += 1
        }
        while i > 0, contributions[i - 1] < contribution {
            slots[i] = slots[i - 1]
            contributions[i] = contributions[i - 1]
            i -= 1
        }
        slots[i] = slot
        contributions[i] = contribution
    }

    public static func == (a: Reasons, b: Reasons) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a.slots[i] != b.slots[i] || a.contributions[i] != b.contributions[i] { return false }
        return true
    }
}
