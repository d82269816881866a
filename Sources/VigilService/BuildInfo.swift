import Kafka
import Redis

/// What this build of Vigil is: `vigil --version` and the `vigil_build_info` metric.
public enum BuildInfo {
    /// Vigil's version. Raised with every release (docs/operations.md, "Versions").
    public static let version = "0.15.0"

    /// The C libraries it runs on: librdkafka's version is the shared library's, read at run time.
    public static var librdkafka: String { KafkaLibrary.version }
    public static var hiredis: String { HiredisLibrary.version }

    /// `vigil 0.15.0 (librdkafka 2.0.2, hiredis 0.14.1)`.
    public static var line: String { "vigil \(version) (librdkafka \(librdkafka), hiredis \(hiredis))" }
}
