import Foundation

extension RedisTLSOptions {
    /// What is wrong with these settings before any connection is tried, one line each: a file that cannot be read, a
    /// certificate without its key or a key without its certificate. Empty when they are usable.
    public var problems: [String] {
        var problems: [String] = []
        for (setting, path) in [("CA file", caFile), ("client certificate", certFile), ("client key", keyFile)] {
            if let path, !FileManager.default.isReadableFile(atPath: path) {
                problems.append("redis TLS \(setting) \(path) cannot be read")
            }
        }
        if (certFile == nil) != (keyFile == nil) {
            problems.append("a redis TLS client certificate needs both a certificate file and a key file")
        }
        if serverName?.isEmpty == true { problems.append("the redis TLS server name is empty") }
        return problems
    }
}
