import Kafka

/// A place history records are read from: a JSON-lines file or a Kafka topic.
///
/// Sources do I/O and may block: run them on a dedicated thread, not on Swift's cooperative pool.
public protocol HistorySource {
    /// Calls `body` with every record in source order, then says what was read. `progress` is called every few
    /// thousand records and at the end.
    func read(_ body: (RawRecord) throws -> Void, progress: (ReadProgress) -> Void) throws -> SourceSummary
}

/// One record's bytes as read, valid only during the call that receives it.
public struct RawRecord {
    public var bytes: UnsafeRawBufferPointer
    public var location: RecordLocation
    /// The record was longer than the source's limit; `bytes` holds only its beginning.
    public var isTruncated: Bool
    /// The Kafka message's key and timestamp (nil for a line of a file, or a message without them).
    public var key: [UInt8]?
    public var timestampMs: Int64?

    public init(
        bytes: UnsafeRawBufferPointer, location: RecordLocation, isTruncated: Bool = false, key: [UInt8]? = nil,
        timestampMs: Int64? = nil
    ) {
        self.bytes = bytes
        self.location = location
        self.isTruncated = isTruncated
        self.key = key
        self.timestampMs = timestampMs
    }
}

/// Where a record came from, to point an operator at a bad one.
public enum RecordLocation: Sendable, Equatable, CustomStringConvertible {
    case line(Int)
    case message(TopicPartition, offset: Int64)

    public var description: String {
        switch self {
        case .line(let n): "line \(n)"
        case .message(let tp, let offset): "\(tp)@\(offset)"
        }
    }
}

/// How far a read has come.
public struct ReadProgress: Sendable {
    public var source: String
    public var records: Int
    public var bytes: Int64
    /// Bytes (files) or records (Kafka) expected in all, when known.
    public var expectedBytes: Int64?
    public var expectedRecords: Int64?
    public var finished: Bool

    public init(source: String, records: Int, bytes: Int64, expectedBytes: Int64? = nil, expectedRecords: Int64? = nil, finished: Bool = false) {
        self.source = source
        self.records = records
        self.bytes = bytes
        self.expectedBytes = expectedBytes
        self.expectedRecords = expectedRecords
        self.finished = finished
    }
}

/// What a source delivered: how much, from where, and a fingerprint of the content.
public struct SourceSummary: Sendable, Equatable {
    /// `file:PATH` or `kafka:TOPIC[p]=low..high,...`.
    public var description: String
    public var records: Int
    public var bytes: Int64
    /// SHA-256 of the content (file bytes; for Kafka, of each partition's values in offset order, combined).
    public var sha256: String

    public init(description: String, records: Int, bytes: Int64, sha256: String) {
        self.description = description
        self.records = records
        self.bytes = bytes
        self.sha256 = sha256
    }
}
