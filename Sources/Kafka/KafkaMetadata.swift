import CRdKafka

/// What a Kafka cluster says about itself in one Metadata request: its brokers and every topic it lists.
public struct KafkaMetadata: Sendable {
    public struct Broker: Sendable, Equatable {
        public var id: Int32
        public var host: String
        public var port: Int

        public init(id: Int32, host: String, port: Int) {
            self.id = id
            self.host = host
            self.port = port
        }
    }

    public struct Topic: Sendable, Equatable {
        public var partitions: Int
        /// The broker's error for this topic (`KafkaError.Code`), `noError` if none.
        public var error: Int32
        /// librdkafka's text for `error`, e.g. "Broker: Topic authorization failed".
        public var errorText: String

        public init(partitions: Int, error: Int32, errorText: String) {
            self.partitions = partitions
            self.error = error
            self.errorText = errorText
        }
    }

    public var brokers: [Broker]
    /// Every topic the cluster listed, by name.
    public var topics: [String: Topic]

    public init(brokers: [Broker], topics: [String: Topic]) {
        self.brokers = brokers
        self.topics = topics
    }

    /// Asks the cluster for its brokers and all its topics, with a client of its own made from `config` (at least
    /// `bootstrap.servers`; security settings as for the other clients), waiting at most `timeoutMs`.
    ///
    /// It asks for *all* topics, which never creates one: a Metadata request naming a missing topic can create it on a
    /// broker with `auto.create.topics.enable`. Throws a `KafkaError` naming an invalid property; or, when no broker
    /// answered in time, a timeout whose message carries the errors the client reported meanwhile (connection
    /// refused, name resolution, authentication).
    public static func fetch(config: [String: String], timeoutMs: Int) throws(KafkaError) -> KafkaMetadata {
        var config = config
        config["allow.auto.create.topics"] = "false"
        let conf = try KafkaConfiguration.make(config)
        let errors = ClientErrors()
        rd_kafka_conf_set_error_cb(conf, ClientErrors.callback)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(errors).toOpaque())
        let handle = try KafkaConfiguration.newClient(RD_KAFKA_PRODUCER, conf, what: "Kafka metadata client")
        // `errors` must outlive the handle: librdkafka calls back until it is destroyed.
        defer { withExtendedLifetime(errors) { rd_kafka_destroy(handle) } }

        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(clamping: timeoutMs))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
            rd_kafka_poll(handle, 0)  // serves the error callbacks queued while waiting
            let reported = errors.messages
            let bound = timeoutMs % 100 == 0 ? "\(timeoutMs / 1000)\(timeoutMs % 1000 == 0 ? "" : ".\(timeoutMs % 1000 / 100)") s"
                : "\(timeoutMs) ms"
            var error = KafkaError(err, "no broker answered within \(bound)")
            if !reported.isEmpty { error.message += " (\(reported.joined(separator: "; ")))" }
            throw error
        }
        defer { rd_kafka_metadata_destroy(metadata) }
        let md = metadata.pointee
        let brokers = (0..<Int(md.broker_cnt)).map { i in
            let b = md.brokers[i]
            return Broker(id: b.id, host: b.host.map { String(cString: $0) } ?? "", port: Int(b.port))
        }
        var topics: [String: Topic] = [:]
        for i in 0..<Int(md.topic_cnt) {
            let t = md.topics[i]
            guard let name = t.topic else { continue }
            topics[String(cString: name)] = Topic(
                partitions: Int(t.partition_cnt), error: t.err.rawValue, errorText: String(cString: rd_kafka_err2str(t.err)))
        }
        return KafkaMetadata(brokers: brokers, topics: topics)
    }
}

/// The errors librdkafka reports to a client's error callback (the first few distinct ones), for saying why a
/// request could not be answered. The client's `opaque`, passed unretained.
private final class ClientErrors: Sendable {
    private let reported = Locked<[String]>([])

    var messages: [String] { reported.withLock { $0 } }

    static let callback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = {
        _, _, reason, opaque in
        guard let opaque, let reason else { return }
        let text = String(cString: reason)
        // librdkafka repeats an error with a suffix like "(after 0ms in state CONNECT, 1 identical error(s)
        // suppressed)": keep the first of each.
        func gist(_ s: String) -> Substring { s.prefix { $0 != "(" } }
        Unmanaged<ClientErrors>.fromOpaque(opaque).takeUnretainedValue().reported.withLock { list in
            if list.count < 3, !list.contains(where: { gist($0) == gist(text) }) { list.append(text) }
        }
    }
}

extension KafkaError.Code {
    /// A topic the client may not describe (ACLs): it is missing from an all-topics metadata answer, or listed with this.
    public static let topicAuthorizationFailed: Int32 = RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED.rawValue
}
