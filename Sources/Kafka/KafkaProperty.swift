import CRdKafka

/// What Vigil knows about a librdkafka configuration property by its name alone: whether its value is a secret,
/// and whether librdkafka accepts it. See docs/kafka-settings.md.
public enum KafkaProperty {
    /// Shown instead of a secret value.
    public static let redactedValue = "<redacted>"

    /// The property's value is a secret that must not appear in logs, metrics, errors or command lines: every
    /// `*password*` and `*secret*` property (`sasl.password`, `ssl.key.password`, `ssl.keystore.password`,
    /// `sasl.oauthbearer.client.secret`), key material (`ssl.key.pem`, `ssl_key`; every `*pem`, as librdkafka also
    /// redacts `ssl.ca.pem`) and `sasl.oauthbearer.config` (which can carry a principal and extensions). A
    /// `consumer.` or `producer.` prefix (docs/kafka-settings.md) does not change the answer.
    public static func isSecret(_ name: String) -> Bool {
        let name = name.lowercased()
        return name.contains("password") || name.contains("secret") || name.hasSuffix("pem") || name == "ssl_key"
            || name.hasSuffix("sasl.oauthbearer.config")
    }

    /// `value`, or `<redacted>` for a secret property.
    public static func shown(_ name: String, _ value: String) -> String {
        isSecret(name) ? redactedValue : value
    }

    /// `text` with every occurrence of each non-empty secret value replaced by `<redacted>`; for messages that may
    /// quote a value (librdkafka's "Invalid value "..." for configuration property ...").
    public static func scrub(_ text: String, secrets: some Sequence<String>) -> String {
        var text = text
        for secret in secrets where !secret.isEmpty {
            text = text.replacing(secret, with: redactedValue)
        }
        return text
    }

    /// librdkafka's objection to setting `name` to `value` (an unknown property, a value it refuses), with a secret
    /// value never quoted; nil when it accepts it. Checked on a scratch configuration, so settings from a file or the
    /// environment are refused at start, naming where they came from, before any client is made.
    public static func problem(name: String, value: String) -> String? {
        guard let conf = rd_kafka_conf_new() else { return "rd_kafka_conf_new failed" }
        defer { rd_kafka_conf_destroy(conf) }
        do {
            try KafkaConfiguration.set(conf, name, value)
            return nil
        } catch {
            return error.message
        }
    }
}
