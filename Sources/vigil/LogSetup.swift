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
        // librdkafka writes debug lines only for the contexts its `debug` property names: asked for, so they pass
        // whatever the level; its other lines follow the level.
        var kafka = Logger(label: "vigil.kafka")
        kafka.logLevel = min(level, .debug)
        let kafkaLogger = kafka
        KafkaDiagnostics.setLogHandler { line in
            let lineLevel = Self.level(syslog: line.level)
            guard line.level >= 7 || lineLevel >= level else { return }
            kafkaLogger.log(
                level: lineLevel, "\(line.message)",
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
