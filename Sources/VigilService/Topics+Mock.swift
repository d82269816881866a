import Kafka

extension Topics {
    /// Creates the input and every output topic on librdkafka's mock cluster (which only knows topics made this way).
    public func create(on cluster: MockKafkaCluster, partitions: Int32) throws {
        for name in [transactions] + outputs {
            try cluster.createTopic(name, partitions: partitions)
        }
    }
}
