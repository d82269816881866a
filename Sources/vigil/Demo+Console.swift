import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import VigilConsole
import VigilService

extension Demo {
    /// The analysts' console on the embedded cluster (`vigil console`, docs/console.md), on 127.0.0.1. The login
    /// token is VIGIL_CONSOLE_TOKEN if set, else a fresh one written to a file only the user can read (never printed:
    /// the demo's output is often pasted into tickets and chats).
    func consoleServices(brokers: String, topics: Topics, labelsTopic: String, out: DemoConsole) throws -> [any Service] {
        guard consolePort >= 0 else { return [] }
        let given = ProcessInfo.processInfo.environment["VIGIL_CONSOLE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let token = given ?? (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        var tokenPlace = "VIGIL_CONSOLE_TOKEN"
        if given == nil {
            let directory: String
            if outputDir.isEmpty {
                // A directory of the user's own (0700), not a predictable name in the shared /tmp.
                var template = Array((FileManager.default.temporaryDirectory.path + "/vigil-demo-XXXXXX").utf8CString)
                guard let made = mkdtemp(&template) else { throw ValidationError("cannot make a directory for the console's token") }
                directory = String(cString: made)
            } else {
                directory = outputDir
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let path = (directory as NSString).appendingPathComponent("console-token")
            try Self.writePrivately(token + "\n", to: path)
            tokenPlace = path
        }
        var config = ConsoleConfig(credentials: try AnalystCredentials.sharedToken(token))
        config.host = "127.0.0.1"
        config.port = consolePort
        config.consumerKafka = ["bootstrap.servers": brokers]
        config.producerKafka = ["bootstrap.servers": brokers]
        config.topics = ConsoleTopics(alerts: topics.alerts, features: topics.features, labels: labelsTopic)
        let place = tokenPlace
        return ConsoleApp.services(config, logger: Logger(label: "vigil.console")) { host, port in
            out.line("Console for the fraud team at http://\(host):\(port)/ (log in with the token in \(place))")
        }
    }

    /// Writes a secret readable by the user only: created with mode 0600 (never briefly readable by others), replacing
    /// an earlier file of that name.
    static func writePrivately(_ text: String, to path: String) throws {
        unlink(path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
            throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
