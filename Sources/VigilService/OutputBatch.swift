import Kafka
import VigilCore

/// A batch's outputs, encoded on the pipeline thread into one byte buffer and produced by the emit stage:
/// the encoding (the larger part of the output cost) overlaps earlier batches' waits, and the emit stage
/// only hands bytes to librdkafka.
struct OutputBatch: @unchecked Sendable {
    enum Topic: Int {
        case decisions, alerts, features, shadow, late, dlq
    }

    struct Entry {
        var topic: Topic
        var key: Range<Int>?
        var value: Range<Int>
        var headers: [KafkaHeader]
    }

    private(set) var bytes: [UInt8] = []
    private(set) var entries: [Entry] = []

    init(expectedRecords: Int) {
        bytes.reserveCapacity(expectedRecords * 1100)
        entries.reserveCapacity(expectedRecords * 2 + expectedRecords / 8)
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Appends `bytes` to the buffer and returns where they are.
    mutating func store(_ source: UnsafeRawBufferPointer) -> Range<Int> {
        let start = bytes.count
        bytes.append(contentsOf: source)
        return start..<bytes.count
    }

    mutating func store(_ text: String) -> Range<Int> {
        var text = text
        return text.withUTF8 { store(UnsafeRawBufferPointer($0)) }
    }

    mutating func add(_ topic: Topic, key: Range<Int>?, value: Range<Int>, headers: [KafkaHeader] = []) {
        entries.append(Entry(topic: topic, key: key, value: value, headers: headers))
    }

    /// Calls `body` with every entry's topic, key and value (valid only inside `body`), in order.
    func forEach(
        _ body: (Entry, UnsafeRawBufferPointer?, UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try bytes.withUnsafeBytes { all in
            for entry in entries {
                let key = entry.key.map { UnsafeRawBufferPointer(rebasing: all[$0]) }
                try body(entry, key, UnsafeRawBufferPointer(rebasing: all[entry.value]))
            }
        }
    }
}

extension OutputBatch {
    /// Keys longer than this are left out of a degraded copy (their size and digest go in headers).
    static let maxDegradedKeyBytes = 256

    /// A copy of an input message that Kafka refused as it is (too large, invalid), without its body (and without
    /// its key if the key is over `maxDegradedKeyBytes`): the headers keep its headers, mark `vigil.error` with
    /// `;body_omitted`, and add the original sizes and SHA-256 digests, so an operator can find the original by its
    /// `vigil.source` and check it.
    func degraded(_ entry: Entry, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer)
        -> (key: UnsafeRawBufferPointer?, headers: [KafkaHeader])
    {
        func hex(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
            var hasher = SHA256()
            hasher.update(bytes)
            return Array(SHA256.hexString(hasher.finalize()).utf8)
        }
        var headers = entry.headers
        if let i = headers.firstIndex(where: { $0.name == "vigil.error" }) {
            headers[i].value += Array(";body_omitted".utf8)
        } else {
            headers.insert(KafkaHeader(name: "vigil.error", value: Array("body_omitted".utf8)), at: 0)
        }
        headers.append(KafkaHeader(name: "vigil.original_bytes", value: Array(String(value.count).utf8)))
        headers.append(KafkaHeader(name: "vigil.original_sha256", value: hex(value)))
        guard let key, key.count > Self.maxDegradedKeyBytes else { return (key, headers) }
        headers.append(KafkaHeader(name: "vigil.original_key_bytes", value: Array(String(key.count).utf8)))
        headers.append(KafkaHeader(name: "vigil.original_key_sha256", value: hex(key)))
        return (nil, headers)
    }

    /// Calls `body` with the entries at `indexes` (in that order), their keys and values.
    func forEach(
        at indexes: [Int], _ body: (Int, Entry, UnsafeRawBufferPointer?, UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try bytes.withUnsafeBytes { all in
            for i in indexes {
                let entry = entries[i]
                let key = entry.key.map { UnsafeRawBufferPointer(rebasing: all[$0]) }
                try body(i, entry, key, UnsafeRawBufferPointer(rebasing: all[entry.value]))
            }
        }
    }

    /// Whether each entry is a copy of an input message (late or dead-lettered), which may be degraded.
    var copies: [Bool] { entries.map { $0.topic == .late || $0.topic == .dlq } }
}
