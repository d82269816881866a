import VigilCore
import Kafka

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// History from a Kafka topic: a bounded replay of every partition from its oldest message up to the high
/// watermark queried at the start. Messages written after the start are left for the next run.
///
/// Reads without a consumer group (`assign`), so it commits nothing and does not disturb other consumers.
public struct KafkaTopicHistory: HistorySource {
    public var brokers: String
    public var topic: String
    /// Extra librdkafka properties.
    public var properties: [String: String]
    /// Partitions to read; nil discovers them (partition numbers 0, 1, ... until the first that does not exist).
    public var partitions: [Int32]?
    /// Give up when no message arrived for this long while partitions are still short of their high watermark.
    public var stallTimeoutMs: Int

    public init(brokers: String, topic: String, properties: [String: String] = [:], partitions: [Int32]? = nil, stallTimeoutMs: Int = 60_000) {
        self.brokers = brokers
        self.topic = topic
        self.properties = properties
        self.partitions = partitions
        self.stallTimeoutMs = stallTimeoutMs
    }

    public func read(_ body: (RawRecord) throws -> Void, progress: (ReadProgress) -> Void) throws -> SourceSummary {
        var config = properties
        config["bootstrap.servers"] = brokers
        if config["enable.partition.eof"] == nil { config["enable.partition.eof"] = "false" }
        // If retention deletes the oldest segment between the offset query and the fetch, restart at the new
        // oldest message rather than jumping to the end (which would look like a complete read).
        if config["auto.offset.reset"] == nil { config["auto.offset.reset"] = "earliest" }
        let consumer: KafkaConsumer
        do { consumer = try KafkaConsumer(config: config) } catch { throw HistoryError.kafka("creating the Kafka consumer failed: \(error)") }
        defer { try? consumer.close() }

        let numbers = try partitions ?? discoverPartitions(consumer)
        var ranges: [TopicPartition: (low: Int64, high: Int64)] = [:]
        for number in numbers {
            let tp = TopicPartition(topic: topic, partition: number)
            do { ranges[tp] = try consumer.watermarks(tp, timeoutMs: 10_000) } catch {
                throw HistoryError.kafka("querying the offsets of \(tp) failed: \(error)")
            }
        }
        let expected = ranges.values.reduce(Int64(0)) { $0 + ($1.high - $1.low) }
        var remaining = Set(ranges.filter { $0.value.high > $0.value.low }.keys)
        var hashers: [TopicPartition: SHA256] = [:]
        for tp in ranges.keys { hashers[tp] = SHA256() }
        var records = 0
        var bytes: Int64 = 0
        let source = "kafka:\(topic)"

        if !remaining.isEmpty {
            do {
                try consumer.assign(Dictionary(uniqueKeysWithValues: remaining.map { ($0, ranges[$0]!.low) }))
            } catch { throw HistoryError.kafka("assigning \(topic) failed: \(error)") }
        }
        var lastMessageAt = Self.nowMs()
        var nextReportAt = 0
        while !remaining.isEmpty {
            let batch: [KafkaMessage]
            do { batch = try consumer.pollBatch(maxMessages: 10_000, timeoutMs: 200) } catch {
                throw HistoryError.kafka("reading \(topic) failed: \(error)")
            }
            if batch.isEmpty {
                // Offsets can end in a gap (transaction markers, compaction): a position at or past the high
                // watermark also means done.
                if let positions = try? consumer.positions(Array(remaining)) {
                    for (tp, position) in positions where position >= ranges[tp]!.high { remaining.remove(tp) }
                }
                if !remaining.isEmpty, Self.nowMs() - lastMessageAt > Int64(stallTimeoutMs) {
                    let detail = remaining.sorted().map { "\($0) short of offset \(ranges[$0]!.high)" }.joined(separator: ", ")
                    throw HistoryError.stalled("no message from \(topic) for \(stallTimeoutMs / 1000) s: \(detail)")
                }
                continue
            }
            lastMessageAt = Self.nowMs()
            var finished: [TopicPartition] = []
            for message in batch {
                let tp = message.topicPartition
                guard let range = ranges[tp], remaining.contains(tp), message.offset < range.high else { continue }
                var length = UInt32(truncatingIfNeeded: message.value.count).bigEndian
                withUnsafeBytes(of: &length) { hashers[tp]!.update($0) }
                try message.value.withUnsafeBytes { value in
                    hashers[tp]!.update(value)
                    try body(RawRecord(bytes: value, location: .message(tp, offset: message.offset), key: message.key, timestampMs: message.timestampMs))
                }
                records += 1
                bytes += Int64(message.value.count)
                if message.offset + 1 >= range.high {
                    remaining.remove(tp)
                    finished.append(tp)
                }
            }
            if !finished.isEmpty { try? consumer.pause(finished) }
            if records >= nextReportAt {
                progress(ReadProgress(source: source, records: records, bytes: bytes, expectedRecords: expected))
                nextReportAt = records + 16_384
            }
        }
        progress(ReadProgress(source: source, records: records, bytes: bytes, expectedRecords: expected, finished: true))

        var combined = SHA256()
        var parts: [String] = []
        for tp in ranges.keys.sorted() {
            let range = ranges[tp]!
            let digest = hashers[tp]!.finalize()
            combined.update(Array("\(tp.partition):\(range.low):\(range.high):".utf8) + digest)
            parts.append("[\(tp.partition)]=\(range.low)..\(range.high)")
        }
        return SourceSummary(
            description: "kafka:\(topic)\(parts.joined(separator: ","))", records: records, bytes: bytes,
            sha256: SHA256.hexString(combined.finalize()))
    }

    /// Partition numbers of the topic: 0, 1, ... up to the first whose offsets the cluster does not know.
    func discoverPartitions(_ consumer: KafkaConsumer) throws -> [Int32] {
        var found: [Int32] = []
        var number: Int32 = 0
        while number < 100_000 {
            do {
                _ = try consumer.watermarks(TopicPartition(topic: topic, partition: number), timeoutMs: 10_000)
            } catch {
                if error.code == KafkaError.Code.unknownPartition || (error.code == KafkaError.Code.unknownTopicOrPartition && !found.isEmpty) {
                    break
                }
                throw HistoryError.kafka("looking up partitions of \(topic) failed: \(error)")
            }
            found.append(number)
            number += 1
        }
        return found
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
