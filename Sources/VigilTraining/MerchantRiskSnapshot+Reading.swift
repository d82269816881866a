import VigilCore

/// Reading a snapshot back from its JSON-lines file (`vigil merchant-risk --table FILE --publish`), so that a table
/// computed earlier can be published (again, or to roll back) without reading the history. The file must be exactly
/// what `forEachLine` writes in content: the header's version is checked against the content read, so an edited or
/// truncated file is refused rather than published under a version that names other counts.
extension MerchantRiskSnapshot {
    public enum ReadError: Error, Equatable, CustomStringConvertible {
        case badLine(RecordLocation, String)
        case versionMismatch(header: String, content: String)
        case countMismatch(header: Int, read: Int)
        case empty

        public var description: String {
            switch self {
            case .badLine(let at, let why): "\(at): \(why)"
            case .versionMismatch(let header, let content):
                "the header names version \(header) but the merchants read make \(content): the file was changed or cut short"
            case .countMismatch(let header, let read): "the header announces \(header) merchants, the file has \(read)"
            case .empty: "the file is empty"
            }
        }
    }

    public static func read(from source: any HistorySource) throws -> MerchantRiskSnapshot {
        var header: (version: String, cut: MerchantRiskCut, merchants: Int)?
        var merchants: [(merchantId: String, counts: MerchantRiskCounts)] = []
        var failure: ReadError?
        _ = try source.read({ record in
            guard failure == nil else { return }
            let parsed: Result<Line, RecordError> = {
                do throws(RecordError) { return .success(try Self.parseLine(record.bytes)) } catch { return .failure(error) }
            }()
            switch parsed {
            case .failure(let error): failure = .badLine(record.location, error.description)
            case .success(.header(let version, let cut, let count)):
                guard header == nil else { failure = .badLine(record.location, "a second header"); return }
                header = (version, cut, count)
                merchants.reserveCapacity(count)
            case .success(.merchant(let id, let counts)):
                guard header != nil else { failure = .badLine(record.location, "a merchant before the header"); return }
                if let last = merchants.last, !last.merchantId.utf8.lexicographicallyPrecedes(id.utf8) {
                    failure = .badLine(record.location, "merchants out of order or repeated")
                    return
                }
                merchants.append((id, counts))
            }
        }, progress: { _ in })
        if let failure { throw failure }
        guard let header else { throw ReadError.empty }
        guard header.merchants == merchants.count else { throw ReadError.countMismatch(header: header.merchants, read: merchants.count) }
        let snapshot = MerchantRiskSnapshot(cut: header.cut, merchants: merchants)
        guard snapshot.version == header.version else { throw ReadError.versionMismatch(header: header.version, content: snapshot.version) }
        return snapshot
    }

    enum Line {
        case header(version: String, cut: MerchantRiskCut, merchants: Int)
        case merchant(String, MerchantRiskCounts)
    }

    static let countFields: [StaticString] = ["tx_1d", "tx_7d", "tx_30d", "fraud_1d", "fraud_7d", "fraud_30d"]

    static func parseLine(_ bytes: UnsafeRawBufferPointer) throws(RecordError) -> Line {
        var scanner = JSONLineScanner(bytes)
        var strings: [String: String] = [:]
        var numbers: [String: Int64] = [:]
        var isHeader = false
        do {
            try scanner.forEachMember { (s: inout JSONLineScanner, key: JSONLineScanner.StringToken) throws(JSONLineScanner.Failure) in
                let name = String(decoding: s.bytes(of: key), as: UTF8.self)
                if name == "merchant_risk_snapshot" { isHeader = true }
                if name == "totals" { return try s.skipValue() }
                switch s.peek() {
                case UInt8(ascii: "\""): strings[name] = String(decoding: s.bytes(of: try s.scanString()), as: UTF8.self)
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard let n = try s.scanInt64() else { throw .invalid }
                    numbers[name] = n
                default: try s.skipValue()
                }
            }
            guard scanner.atEndIgnoringWhitespace() else { throw JSONLineScanner.Failure.invalid }
        } catch {
            throw .invalidJSON
        }
        if isHeader {
            guard numbers["merchant_risk_snapshot"] == 1 else { throw .unsupportedSchemaVersion }
            guard let version = strings["version"] else { throw .missingField("version") }
            guard let cut = numbers["cut_ms"] else { throw .missingField("cut_ms") }
            guard let delay = numbers["label_delay_ms"] else { throw .missingField("label_delay_ms") }
            guard let count = numbers["merchants"], count >= 0 else { throw .missingField("merchants") }
            return .header(version: version, cut: MerchantRiskCut(cutMs: cut, labelDelayMs: delay), merchants: Int(count))
        }
        guard let id = strings["merchant_id"], (1...64).contains(id.utf8.count) else { throw .missingField("merchant_id") }
        var values: [Int64] = []
        for field in countFields {
            guard let n = numbers[field.description], n >= 0 else { throw .missingField(field.description) }
            values.append(n)
        }
        let counts = MerchantRiskCounts(
            transactions1d: values[0], transactions7d: values[1], transactions30d: values[2],
            frauds1d: values[3], frauds7d: values[4], frauds30d: values[5])
        guard MerchantRiskCounts(redisValue: counts.redisValue) != nil else { throw .badValue(field: "fraud", "exceeds transactions") }
        return .merchant(id, counts)
    }
}
