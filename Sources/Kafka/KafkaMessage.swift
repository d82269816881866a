/// One record read from a partition.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    /// `nil` when the record has no key.
    public var key: [UInt8]?
    /// The payload; empty for a null payload (tombstone).
    public var value: [UInt8]
    /// The record's timestamp in milliseconds since the epoch, when the broker returned one:
    /// CreateTime (set by the producer) unless the topic is configured for LogAppendTime.
    public var timestampMs: Int64?
    /// Record headers in wire order; names may repeat. Empty when the record has none.
    public var headers: [(String, [UInt8])]

    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
        timestampMs: Int64? = nil, headers: [(String, [UInt8])] = []
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestampMs = timestampMs
        self.headers = headers
    }

    /// Where this record lives.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }
}

/// A header attached to a produced record.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]

    public init(name: String, value: [UInt8]) {
        self.name = name
        self.value = value
    }
}
