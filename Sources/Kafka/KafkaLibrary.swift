import CRdKafka

/// The librdkafka this process runs on.
public enum KafkaLibrary {
    /// librdkafka's version string (`rd_kafka_version_str`), e.g. "2.0.2".
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
