import CRdKafka

/// Builds an `rd_kafka_conf_t` from string properties. The caller owns the result until `rd_kafka_new` succeeds.
enum KafkaConfiguration {
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(RD_KAFKA_RESP_ERR__FAIL, "rd_kafka_conf_new failed")
        }
        KafkaDiagnostics.install(on: conf)
        do {
            // Sorted so that the first failing property is deterministic.
            for (name, value) in properties.sorted(by: { $0.key < $1.key }) {
                try set(conf, name, value)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        return conf
    }

    static func set(_ conf: OpaquePointer, _ name: String, _ value: String) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, name, value, &errstr, errstr.count)
        if result != RD_KAFKA_CONF_OK {
            throw KafkaError.config(
                property: name, value: value, reason: cString(errstr), unknown: result == RD_KAFKA_CONF_UNKNOWN)
        }
    }

    /// Creates the client; on failure destroys `conf` (on success librdkafka owns it).
    static func newClient(_ type: rd_kafka_type_t, _ conf: OpaquePointer, what: String) throws(KafkaError) -> OpaquePointer {
        var errstr = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
            // librdkafka's reason may quote a value; secret ones are taken out before it goes anywhere.
            let reason = KafkaProperty.scrub(cString(errstr), secrets: secretValues(conf))
            rd_kafka_conf_destroy(conf)
            throw KafkaError(
                code: RD_KAFKA_RESP_ERR__INVALID_ARG.rawValue,
                name: String(cString: rd_kafka_err2name(RD_KAFKA_RESP_ERR__INVALID_ARG)),
                message: "creating \(what) failed: \(reason)"
            )
        }
        return handle
    }

    /// The values of the secret properties set in `conf` (`KafkaProperty.isSecret`). Read with
    /// `rd_kafka_conf_dump`, which does not redact: its result is only compared with, never printed.
    static func secretValues(_ conf: OpaquePointer) -> [String] {
        var count = 0
        guard let dump = rd_kafka_conf_dump(conf, &count) else { return [] }
        defer { rd_kafka_conf_dump_free(dump, count) }
        var values: [String] = []
        for i in stride(from: 0, to: count - 1, by: 2) {
            guard let name = dump[i], let value = dump[i + 1], KafkaProperty.isSecret(String(cString: name)) else { continue }
            values.append(String(cString: value))
        }
        return values
    }

    static func cString(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
