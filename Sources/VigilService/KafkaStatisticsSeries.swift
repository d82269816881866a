import Kafka

/// librdkafka's statistics and error counts as Prometheus series (labels: the client's type, a broker's
/// `host:port/id`, a topic and partition: bounded by the cluster).
enum KafkaStatisticsSeries {
    static func report(_ clients: [KafkaStatistics], errors: [String: Int], into r: inout MirrorRound) {
        r.counter("vigil_kafka_errors_total", "Client-level errors librdkafka reported (connections, brokers down, authentication, fatal), by error name.",
                  errors.sorted { $0.key < $1.key }.map { ([("error", $0.key)], Double($0.value)) })
        // Only the newest report of each type (`clients` come oldest first: a rebuilt producer replaces the old one).
        var byType: [String: KafkaStatistics] = [:]
        for c in clients { byType[c.type] = c }
        let reported = byType.sorted { $0.key < $1.key }.map(\.value)
        var up: [([(String, String)], Double)] = []
        var rtt: [([(String, String)], Double)] = []
        var timeouts: [([(String, String)], Double)] = []
        var txErrors: [([(String, String)], Double)] = []
        for c in reported {
            for b in c.brokers {
                let labels = [("client", c.type), ("broker", b.name)]
                up.append((labels, ["UP", "UPDATE", "REAUTH"].contains(b.state) ? 1 : 0))
                if let micros = b.rttAvgMicros { rtt.append((labels, micros / 1e6)) }
                timeouts.append((labels, Double(b.requestTimeouts)))
                txErrors.append((labels + [("direction", "transmit")], Double(b.transmitErrors)))
                txErrors.append((labels + [("direction", "receive")], Double(b.receiveErrors)))
            }
        }
        r.gauge("vigil_kafka_broker_up", "1 while librdkafka's connection to the broker is UP (from its statistics).", up)
        r.gauge("vigil_kafka_broker_rtt_seconds", "Average request round trip to the broker over librdkafka's last statistics window.", rtt)
        r.counter("vigil_kafka_broker_request_timeouts_total", "Requests to the broker that timed out.", timeouts)
        r.counter("vigil_kafka_broker_errors_total", "Transmit and receive errors on the connection to the broker.", txErrors)
        let consumer = reported.first { $0.type == "consumer" }
        r.gauge("vigil_kafka_consumer_lag", "librdkafka's own view of the consumer lag per partition (high watermark minus position).",
                (consumer?.lags ?? []).map { ([("topic", $0.topic), ("partition", String($0.partition))], Double($0.consumerLag)) })
        if let rebalances = consumer?.rebalances {
            r.counter("vigil_kafka_group_rebalances_total", "Consumer group rebalances this instance went through.", rebalances)
        }
        if let producer = reported.first(where: { $0.type == "producer" }) {
            r.gauge("vigil_kafka_producer_queue_messages", "Messages waiting in the producer's queues.", Double(producer.queuedMessages))
            if let state = producer.transactionState {
                r.info("vigil_kafka_transaction_state", "The producer's transaction state (exactly-once), from librdkafka's statistics.",
                       [("state", state)])
            }
        }
    }
}
