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
            let directory = outputDir.isEmpty ? FileManager.default.temporaryDirectory.path : outputDir
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = (directory as NSString).appendingPathComponent("console-token")
            FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
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
}
