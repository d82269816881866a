import Foundation

/// A linear model as stored in `models/*.json`: what the training job writes and the service compiles.
public struct ModelFile: Codable, Sendable, Equatable {
    public struct Term: Codable, Sendable, Equatable {
        /// A catalog feature name.
        public var name: String
        /// `identity`, `log1p` or `clip`.
        public var transform: String
        /// Bounds for `clip`.
        public var min: Double?
        public var max: Double?
        /// Standardization: the model sees `(transform(x) - mean) / std`.
        public var mean: Double
        public var std: Double
        public var weight: Double
        /// Why this weight (hand-set models); free text.
        public var why: String?

        public init(
            name: String, transform: String = "identity", min: Double? = nil, max: Double? = nil,
            mean: Double = 0, std: Double = 1, weight: Double, why: String? = nil
        ) {
            self.name = name
            self.transform = transform
            self.min = min
            self.max = max
            self.mean = mean
            self.std = std
            self.weight = weight
            self.why = why
        }

        /// `transform` defaults to `identity`, `mean` to 0 and `std` to 1, so hand-written terms can stay short.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            transform = try c.decodeIfPresent(String.self, forKey: .transform) ?? "identity"
            min = try c.decodeIfPresent(Double.self, forKey: .min)
            max = try c.decodeIfPresent(Double.self, forKey: .max)
            mean = try c.decodeIfPresent(Double.self, forKey: .mean) ?? 0
            std = try c.decodeIfPresent(Double.self, forKey: .std) ?? 1
            weight = try c.decode(Double.self, forKey: .weight)
            why = try c.decodeIfPresent(String.self, forKey: .why)
        }
    }

    public struct Thresholds: Codable, Sendable, Equatable {
        public var review: Double
        public var block: Double
        public init(review: Double, block: Double) {
            self.review = review
            self.block = block
        }
    }

    /// Shown on every decision as `model_version`.
    public var version: String
    public var features: [Term]
    public var bias: Double
    public var thresholds: Thresholds
    /// Training metadata (data range, counts, metrics, input hash); free-form JSON kept as is.
    public var training: JSONValue?
    public var description: String?

    public init(
        version: String, features: [Term], bias: Double, thresholds: Thresholds,
        training: JSONValue? = nil, description: String? = nil
    ) {
        self.version = version
        self.features = features
        self.bias = bias
        self.thresholds = thresholds
        self.training = training
        self.description = description
    }

    /// Parses a model file. Errors name the problem (JSON syntax, a missing key, a wrong type).
    public static func parse(_ data: Data) throws(ModelError) -> ModelFile {
        do {
            return try JSONDecoder().decode(ModelFile.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .malformed("missing key '\(key.stringValue)' at \(context.codingPath.pathText)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .malformed("wrong type at \(context.codingPath.pathText): \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .malformed("null value at \(context.codingPath.pathText)")
        } catch let DecodingError.dataCorrupted(context) {
            throw .malformed("not valid JSON: \(context.debugDescription) \(context.underlyingError.map { "\($0)" } ?? "")")
        } catch {
            throw .malformed("\(error)")
        }
    }

    /// Pretty, stable JSON for writing model files.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}

/// Why a model file was refused.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(String)
    case unknownFeature(String)
    /// The model names a feature of a later catalog than the one running (`FeatureCatalog`).
    case notServed(feature: String, catalog: Int)
    case duplicateFeature(String)
    case badTransform(feature: String, String)
    case badNumber(String)
    case badThresholds(String)

    public var description: String {
        switch self {
        case .malformed(let s): "malformed model file: \(s)"
        case .unknownFeature(let name): "unknown feature '\(name)' (not in the feature catalog)"
        case .notServed(let name, let catalog):
            "feature '\(name)' is not served by the running feature catalog \(catalog) (run --feature-catalog 2, or use a model of catalog \(catalog))"
        case .duplicateFeature(let name): "feature '\(name)' listed twice"
        case .badTransform(let feature, let s): "feature '\(feature)': \(s)"
        case .badNumber(let s): "bad number: \(s)"
        case .badThresholds(let s): "bad thresholds: \(s)"
        }
    }
}

extension [any CodingKey] {
    var pathText: String {
        isEmpty ? "top level" : map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
}

/// Any JSON value, for free-form metadata that is carried but not interpreted.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n): try c.encode(n)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
