import Foundation

/// A throwaway certificate authority with a server and a client certificate, made with the `openssl` command in a
/// temporary directory, for TLS tests, the demo and the load test. Nothing here is fit to protect real data: the keys
/// sit unencrypted in the directory.
///
/// The server certificate names `localhost` and `127.0.0.1` (subject alternative names), so a client connecting to
/// either verifies it; any other expected name fails verification.
public struct RedisTestCertificates: Sendable {
    /// The directory holding the files; ``remove()`` deletes it.
    public let directory: String
    public var caFile: String { path("ca.crt") }
    public var serverCertFile: String { path("server.crt") }
    public var serverKeyFile: String { path("server.key") }
    public var clientCertFile: String { path("client.crt") }
    public var clientKeyFile: String { path("client.key") }

    /// Makes a CA (EC P-256, valid two days) and a server and a client certificate signed by it.
    ///
    /// - Throws: ``RedisServerProcessError`` naming the `openssl` command that failed and its output.
    public static func make(openssl: String = "/usr/bin/openssl") throws -> RedisTestCertificates {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let certificates = RedisTestCertificates(directory: directory)
        try certificates.write(
            "ca.cnf",
            """
            [req]
            distinguished_name = dn
            prompt = no
            [dn]
            CN = Vigil test CA
            [ext]
            basicConstraints = critical,CA:TRUE
            keyUsage = critical,keyCertSign,cRLSign
            subjectKeyIdentifier = hash

            """)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(openssl, ["req", "-x509", "-config", "ca.cnf", "-extensions", "ext"] + ec
            + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "2"], in: directory)
        for (name, usage) in [("server", "serverAuth"), ("client", "clientAuth")] {
            try certificates.write(
                "\(name).ext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=\(usage)\nbasicConstraints=CA:FALSE\n")
            try run(openssl, ["req", "-new"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", "/CN=vigil-test-\(name)"], in: directory)
            try run(openssl, [
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", "\(name).crt", "-extfile", "\(name).ext",
            ], in: directory)
        }
        return certificates
    }

    /// TLS settings for a ``RedisServerProcess`` serving the server certificate; with `authClients` its
    /// ``RedisServerProcess/endpoint`` presents the client certificate.
    public func serverTLS(authClients: Bool = false) -> RedisServerTLS {
        RedisServerTLS(
            certFile: serverCertFile, keyFile: serverKeyFile, caFile: caFile, authClients: authClients,
            clientCertFile: authClients ? clientCertFile : nil, clientKeyFile: authClients ? clientKeyFile : nil)
    }

    /// Deletes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func path(_ name: String) -> String { "\(directory)/\(name)" }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    private static func run(_ executable: String, _ arguments: [String], in directory: String) throws {
        let (status, text) = try ToolProcess.run(
            executable, arguments, in: directory, hint: " (install the openssl package)")
        guard status == 0 else {
            throw RedisServerProcessError(
                message: "\(executable) \(arguments.joined(separator: " ")) exited with status \(status): \(text)")
        }
    }
}
