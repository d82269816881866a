/// The ground truth of generated traffic (`vigil train --truth FILE`): per transaction its fraud pattern, or `none`
/// for a genuine payment. JSON lines `{"transaction_id": "...", "pattern": "..."}`, as the traffic generator's
/// `GroundTruth` knows them. Used only to report recall per pattern, never to train. Pure.
public struct PatternTruth: Sendable {
    /// Pattern names by index; index 0 is "" (no ground truth for the transaction).
    public private(set) var names: [String] = [""]
    var index: [String: UInt8] = [:]
    var patterns: [TransactionKey: UInt8] = [:]
    public private(set) var tally = RecordTally()

    /// The pattern name of genuine payments.
    public static let genuine = "none"
    /// At most this many distinct patterns (index fits a byte).
    static let maxPatterns = 254

    public init() {}

    public var count: Int { patterns.count }

    /// Parses and records one line; a bad one is counted and skipped.
    public mutating func add(_ record: RawRecord) {
        tally.read += 1
        guard !record.isTruncated else { return tally.reject(.tooLong(limit: record.bytes.count), at: record.location) }
        let parsed: Result<(String, String), RecordError> = {
            do throws(RecordError) { return .success(try Self.parse(record.bytes)) } catch { return .failure(error) }
        }()
        switch parsed {
        case .failure(let error): tally.reject(error, at: record.location)
        case .success(let (id, pattern)):
            guard add(transactionId: id, pattern: pattern) else {
                return tally.reject(.badValue(field: "pattern", "is one more than \(Self.maxPatterns) distinct patterns"), at: record.location)
            }
            tally.accepted += 1
        }
    }

    /// False when there are already `maxPatterns` other patterns.
    @discardableResult
    public mutating func add(transactionId: String, pattern: String) -> Bool {
        let slot: UInt8
        if let known = index[pattern] {
            slot = known
        } else {
            guard names.count <= Self.maxPatterns else { return false }
            slot = UInt8(names.count)
            index[pattern] = slot
            names.append(pattern)
        }
        patterns[TransactionKey(transactionId)] = slot
        return true
    }

    /// The pattern index of a transaction, 0 when the truth does not name it.
    func pattern(of key: TransactionKey) -> UInt8 { patterns[key] ?? 0 }

    static func parse(_ bytes: UnsafeRawBufferPointer) throws(RecordError) -> (String, String) {
        var scanner = JSONLineScanner(bytes)
        var id: [UInt8]?
        var pattern: [UInt8]?
        var problem: RecordError?
        do {
            try scanner.forEachMember { (s: inout JSONLineScanner, key: JSONLineScanner.StringToken) throws(JSONLineScanner.Failure) in
                if s.token(key, equals: "transaction_id") {
                    guard s.peek() == UInt8(ascii: "\"") else {
                        problem = problem ?? .wrongType(field: "transaction_id")
                        return try s.skipValue()
                    }
                    id = s.bytes(of: try s.scanString())
                } else if s.token(key, equals: "pattern") {
                    guard s.peek() == UInt8(ascii: "\"") else {
                        problem = problem ?? .wrongType(field: "pattern")
                        return try s.skipValue()
                    }
                    pattern = s.bytes(of: try s.scanString())
                } else {
                    try s.skipValue()
                }
            }
            guard scanner.atEndIgnoringWhitespace() else { throw JSONLineScanner.Failure.invalid }
        } catch {
            throw .invalidJSON
        }
        if let problem { throw problem }
        guard let id, !id.isEmpty else { throw .missingField("transaction_id") }
        guard let pattern, !pattern.isEmpty else { throw .missingField("pattern") }
        return (String(decoding: id, as: UTF8.self), String(decoding: pattern, as: UTF8.self))
    }
}
