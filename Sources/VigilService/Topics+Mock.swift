import Kafka

extension Topics {
    /// Creates the input, every output and the shadow topic on librdkafka's mock cluster (which only knows topics
    /// made this way).
    public func create(on cluster: MockKafkaCluster, partitions: Int32) throws {
        for name in [transactions] + outputs + [shadow] {
            try cluster.createTopic(name, partitions: partitions)
        }
    }
}
