import VigilCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `fraud.features` message: the features a transaction was scored with, and what Vigil decided.
public struct FeatureRecord: Sendable, Equatable {
    public var transactionId: String
    public var eventTimeMs: Int64
    /// nil when the record has no (known) verdict.
    public var verdict: Verdict?
    /// The record's feature catalog: 1 for schema version 1, `catalog_version` (2) for schema version 2.
    public var catalogVersion: Int
    /// The values of the catalog's features (`FeatureCatalog`); the others are 0.
    public var features: FeatureVector

    public init(transactionId: String, eventTimeMs: Int64, verdict: Verdict?, catalogVersion: Int = 1, features: FeatureVector) {
        self.transactionId = transactionId
        self.eventTimeMs = eventTimeMs
        self.verdict = verdict
        self.catalogVersion = catalogVersion
        self.features = features
    }

    /// Parses a record of the contract's schema version 1 (catalog v1) or 2 (catalog v2; `catalog_version`, if
    /// present, must be 2). Unknown fields and features are ignored; every feature of the record's catalog must be
    /// present as a finite number.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RecordError) -> FeatureRecord {
        var scanner = JSONLineScanner(bytes)
        var schema: Int64?
        var id: [UInt8]?
        var time: Int64?
        var verdict: Verdict?
        var features = FeatureVector()
        var catalog: Int64?
        var seen: UInt64 = 0
        var problem: RecordError?
        do {
            try scanner.forEachMember { (s: inout JSONLineScanner, key: JSONLineScanner.StringToken) throws(JSONLineScanner.Failure) in
                if s.token(key, equals: "features") {
                    guard s.peek() == UInt8(ascii: "{") else {
                        problem = problem ?? .wrongType(field: "features")
                        return try s.skipValue()
                    }
                    var index = 0
                    try s.forEachMember { (f: inout JSONLineScanner, name: JSONLineScanner.StringToken) throws(JSONLineScanner.Failure) in
                        let slot = FeatureNames.slot(of: name, in: f, expected: index)
                        index += 1
                        guard let slot else { return try f.skipValue(depth: 2) }
                        guard f.peek() == UInt8(ascii: "-") || JSONLineScanner.isDigit(f.peek()) else {
                            problem = problem ?? .wrongType(field: "features.\(Feature(rawValue: slot)!.name)")
                            return try f.skipValue(depth: 2)
                        }
                        let value = try f.scanDouble()
                        if !value.isFinite { problem = problem ?? .badValue(field: "features.\(Feature(rawValue: slot)!.name)", "is not finite") }
                        features.values[slot] = value
                        seen |= 1 << UInt64(slot)
                    }
                } else if s.token(key, equals: "transaction_id") {
                    guard s.peek() == UInt8(ascii: "\"") else {
                        problem = problem ?? .wrongType(field: "transaction_id")
                        return try s.skipValue()
                    }
                    id = s.bytes(of: try s.scanString())
                } else if s.token(key, equals: "event_time_ms") {
                    guard s.peek() == UInt8(ascii: "-") || JSONLineScanner.isDigit(s.peek()) else {
                        problem = problem ?? .wrongType(field: "event_time_ms")
                        return try s.skipValue()
                    }
                    time = try s.scanInt64()
                    if time == nil { problem = problem ?? .badValue(field: "event_time_ms", "is not an integer") }
                } else if s.token(key, equals: "verdict") {
                    guard s.peek() == UInt8(ascii: "\"") else { return try s.skipValue() }
                    let token = try s.scanString()
                    verdict = s.token(token, equals: "block") ? .block
                        : s.token(token, equals: "review") ? .review
                        : s.token(token, equals: "approve") ? .approve : nil
                } else if s.token(key, equals: "catalog_version") {
                    catalog = try s.scanVersion()
                } else if s.token(key, equals: "schema_version") {
                    schema = try s.scanVersion()
                } else {
                    try s.skipValue()
                }
            }
            guard scanner.atEndIgnoringWhitespace() else { throw JSONLineScanner.Failure.invalid }
        } catch {
            throw .invalidJSON
        }
        guard let schema else { throw .missingField("schema_version") }
        let catalogVersion: FeatureCatalog
        switch schema {
        case 1: catalogVersion = .v1
        case 2:
            // `catalog_version` repeats what the schema says; a record without it is read as catalog 2.
            guard catalog == nil || catalog == 2 else { throw .badValue(field: "catalog_version", "is not 2") }
            catalogVersion = .v2
        default: throw .unsupportedSchemaVersion
        }
        if let problem { throw problem }
        guard let id else { throw .missingField("transaction_id") }
        guard !id.isEmpty else { throw .badValue(field: "transaction_id", "is empty") }
        guard let time else { throw .missingField("event_time_ms") }
        let required: UInt64 = (1 << UInt64(catalogVersion.count)) - 1
        if seen & required != required {
            let missing = catalogVersion.features.first { seen & (1 << UInt64($0.rawValue)) == 0 }!
            throw .missingFeature(missing.name)
        }
        return FeatureRecord(
            transactionId: String(decoding: id, as: UTF8.self), eventTimeMs: time, verdict: verdict,
            catalogVersion: catalogVersion.rawValue, features: features)
    }

    public static func parse(_ bytes: [UInt8]) throws(RecordError) -> FeatureRecord {
        let result: Result<FeatureRecord, RecordError> = bytes.withUnsafeBytes { buffer in
            do throws(RecordError) { return .success(try parse(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Catalog names as bytes, for matching keys without building strings.
enum FeatureNames {
    static let bytes: [[UInt8]] = Feature.allCases.map { Array($0.name.utf8) }

    /// The slot of a catalog feature named by `token`, trying `expected` first (records list the catalog in order).
    static func slot(of token: JSONLineScanner.StringToken, in scanner: JSONLineScanner, expected: Int) -> Int? {
        if token.hasEscapes {
            return Feature(name: String(decoding: scanner.bytes(of: token), as: UTF8.self))?.rawValue
        }
        let start = scanner.base + token.start, count = token.end - token.start
        func matches(_ slot: Int) -> Bool {
            bytes[slot].count == count && bytes[slot].withUnsafeBufferPointer { memcmp($0.baseAddress!, start, count) == 0 }
        }
        if expected < Feature.count, matches(expected) { return expected }
        return (0..<Feature.count).first(where: matches)
    }
}
