import Kafka

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
