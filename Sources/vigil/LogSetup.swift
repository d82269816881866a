import Kafka
import Logging
import VigilService

/// How log lines are written.
enum LogFormat: String {
    case text, json
}

enum LogSetup {
    /// Sets up swift-log for the process (once) in the given format and level, routes librdkafka's log lines and
    /// client errors into it (logger `vigil.kafka`, metadata `kafka.client` and `kafka.facility`), and returns the
    /// logger `label`.
    static func bootstrap(_ label: String, level: Logger.Level, format: LogFormat) -> Logger {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var kafka = Logger(label: "vigil.kafka")
        kafka.logLevel = level
        let kafkaLogger = kafka
        KafkaDiagnostics.setLogHandler { line in
            kafkaLogger.log(
                level: Self.level(syslog: line.level), "\(line.message)",
                metadata: ["kafka.client": "\(line.client)", "kafka.facility": "\(line.facility)"], source: "librdkafka")
        }
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    /// librdkafka's syslog levels: 0-2 critical, 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    static func level(syslog: Int32) -> Logger.Level {
        switch syslog {
        case ...2: .critical
        case 3: .error
        case 4: .warning
        case 5: .notice
        case 6: .info
        default: .debug
        }
    }
}
