/// Why one history record (a line of a JSON-lines file or a Kafka message) was skipped.
///
/// Descriptions are short and have few distinct values, so that bad records can be counted by reason.
public enum RecordError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    case invalidJSON
    case tooLong(limit: Int)
    case unsupportedSchemaVersion
    case missingField(String)
    case wrongType(field: String)
    case missingFeature(String)
    case badValue(field: String, String)

    public var description: String {
        switch self {
        case .invalidJSON: "not a JSON object"
        case .tooLong(let limit): "longer than \(limit) bytes"
        case .unsupportedSchemaVersion: "unsupported schema_version"
        case .missingField(let field): "missing \(field)"
        case .wrongType(let field): "wrong type of \(field)"
        case .missingFeature(let name): "missing feature \(name)"
        case .badValue(let field, let why): "\(field) \(why)"
        }
    }
}
