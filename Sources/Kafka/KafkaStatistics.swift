import Foundation

/// The part of librdkafka's statistics (`statistics.interval.ms`, STATISTICS.md) that operators watch: broker
/// connections and round trips, the client's own view of consumer lag, the producer queue, the transaction state and
/// the group's rebalances. Parsed once per interval per client, off the hot path.
public struct KafkaStatistics: Sendable, Equatable {
    public struct Broker: Sendable, Equatable {
        /// `host:port/id`.
        public var name: String
        public var nodeId: Int
        /// `INIT`, `DOWN`, `CONNECT`, `AUTH`, `APIVERSION_QUERY`, `AUTH_HANDSHAKE`, `UP`, `UPDATE`.
        public var state: String
        /// Average round trip of the last window, in microseconds (nil before the first request).
        public var rttAvgMicros: Double?
        public var requestTimeouts: Int
        public var transmitErrors: Int
        public var receiveErrors: Int
    }

    public struct PartitionLag: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        public var consumerLag: Int64

        public init(topic: String, partition: Int32, consumerLag: Int64) {
            self.topic = topic
            self.partition = partition
            self.consumerLag = consumerLag
        }
    }

    /// The client's name (`rdkafka#consumer-1`) and type (`consumer`, `producer`).
    public var name: String
    public var type: String
    /// Messages in the producer's queues (`msg_cnt`).
    public var queuedMessages: Int
    public var brokers: [Broker]
    /// Partitions with a known lag (librdkafka reports -1 while it does not know).
    public var lags: [PartitionLag]
    /// The transactional producer's state (`eos.txn_state`, e.g. `Ready`, `InTransaction`), nil for others.
    public var transactionState: String?
    /// The group's rebalances so far (`cgrp.rebalance_cnt`), nil without a group.
    public var rebalances: Int?

    /// Parses one statistics document; nil if it is not one.
    public static func parse(_ json: String) -> KafkaStatistics? {
        guard let data = json.data(using: .utf8),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let name = root["name"] as? String
        else { return nil }
        func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
        var stats = KafkaStatistics(
            name: name, type: root["type"] as? String ?? "", queuedMessages: int(root["msg_cnt"]) ?? 0, brokers: [], lags: [])
        for (key, value) in (root["brokers"] as? [String: Any]) ?? [:] {
            guard let b = value as? [String: Any] else { continue }
            let nodeId = int(b["nodeid"]) ?? -1
            // Bootstrap entries (node id -1) stand for the configured addresses before metadata names the brokers.
            // Brokers in INIT were never connected to (librdkafka connects to the brokers it needs only): not down.
            guard nodeId >= 0, b["state"] as? String != "INIT" else { continue }
            let rtt = (b["rtt"] as? [String: Any]).flatMap { r -> Double? in
                guard let cnt = int(r["cnt"]), cnt > 0 else { return nil }
                return (r["avg"] as? NSNumber)?.doubleValue
            }
            stats.brokers.append(Broker(
                name: b["name"] as? String ?? key, nodeId: nodeId, state: b["state"] as? String ?? "",
                rttAvgMicros: rtt, requestTimeouts: int(b["req_timeouts"]) ?? 0, transmitErrors: int(b["txerrs"]) ?? 0,
                receiveErrors: int(b["rxerrs"]) ?? 0))
        }
        stats.brokers.sort { $0.nodeId < $1.nodeId }
        for (topic, value) in (root["topics"] as? [String: Any]) ?? [:] {
            guard let partitions = (value as? [String: Any])?["partitions"] as? [String: Any] else { continue }
            for (_, p) in partitions {
                guard let p = p as? [String: Any], let partition = int(p["partition"]), partition >= 0,
                      let lag = (p["consumer_lag"] as? NSNumber)?.int64Value, lag >= 0
                else { continue }
                stats.lags.append(PartitionLag(topic: topic, partition: Int32(partition), consumerLag: lag))
            }
        }
        stats.lags.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        if stats.type == "producer", let eos = root["eos"] as? [String: Any], let state = eos["txn_state"] as? String {
            stats.transactionState = state
        }
        if let cgrp = root["cgrp"] as? [String: Any] { stats.rebalances = int(cgrp["rebalance_cnt"]) }
        return stats
    }
}
