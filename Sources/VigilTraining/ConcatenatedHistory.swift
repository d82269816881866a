import VigilCore

/// Several sources read one after the other as one history, e.g. a backfill's feature records before the logged
/// `fraud.features`: readers that keep the first record of a transaction (`vigil train`) then take the backfilled
/// one. The summary lists the parts; its SHA-256 covers theirs in order.
public struct ConcatenatedHistory: HistorySource {
    public var parts: [any HistorySource]

    public init(_ parts: [any HistorySource]) {
        self.parts = parts
    }

    public func read(_ body: (RawRecord) throws -> Void, progress: (ReadProgress) -> Void) throws -> SourceSummary {
        guard parts.count != 1 else { return try parts[0].read(body, progress: progress) }
        var summaries: [SourceSummary] = []
        for part in parts { summaries.append(try part.read(body, progress: progress)) }
        var hasher = SHA256()
        for s in summaries { hasher.update(Array("\(s.sha256)\n".utf8)) }
        return SourceSummary(
            description: summaries.map(\.description).joined(separator: " + "),
            records: summaries.reduce(0) { $0 + $1.records }, bytes: summaries.reduce(0) { $0 + $1.bytes },
            sha256: SHA256.hexString(hasher.finalize()))
    }
}
