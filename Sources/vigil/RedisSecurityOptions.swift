import ArgumentParser
import Foundation
import Redis

/// How every command that talks to Redis authenticates and encrypts: the ACL user and password, and TLS. One option
/// group, the same in `serve`, `demo`, `train`, `model` and `merchant-risk`, so a deployment sets it once (flags or
/// `VIGIL_REDIS_*` variables) for all of them.
///
/// The password is read from `VIGIL_REDIS_PASSWORD` or from a file, never from a flag: a command line is visible to
/// every user of the machine (`ps`, `/proc/<pid>/cmdline`).
struct RedisSecurityOptions: ParsableArguments {
    @Option(help: "ACL user Vigil authenticates as (AUTH user password); without it a password authenticates the default user (env VIGIL_REDIS_USER).")
    var redisUser = Environment.optionalString("VIGIL_REDIS_USER")

    @Option(help: "File holding the Redis password; a trailing newline is ignored. The password can also come from env VIGIL_REDIS_PASSWORD, never from a flag (env VIGIL_REDIS_PASSWORD_FILE).")
    var redisPasswordFile = Environment.optionalString("VIGIL_REDIS_PASSWORD_FILE")

    @Flag(inversion: .prefixedNo, help: "TLS to Redis, the server's certificate verified (env VIGIL_REDIS_TLS=1).")
    var redisTls = Environment.bool("VIGIL_REDIS_TLS", false)

    @Option(help: "With --redis-tls: CA certificates (PEM) the server's certificate must chain to; default the system's store (env VIGIL_REDIS_TLS_CA).")
    var redisTlsCa = Environment.optionalString("VIGIL_REDIS_TLS_CA")

    @Option(help: "With --redis-tls: client certificate (PEM) for servers with tls-auth-clients; needs --redis-tls-key (env VIGIL_REDIS_TLS_CERT).")
    var redisTlsCert = Environment.optionalString("VIGIL_REDIS_TLS_CERT")

    @Option(help: "With --redis-tls: the client certificate's key (PEM) (env VIGIL_REDIS_TLS_KEY).")
    var redisTlsKey = Environment.optionalString("VIGIL_REDIS_TLS_KEY")

    @Option(help: "With --redis-tls: the name the server's certificate must carry; default the Redis host (env VIGIL_REDIS_TLS_SERVER_NAME).")
    var redisTlsServerName = Environment.optionalString("VIGIL_REDIS_TLS_SERVER_NAME")

    /// The credentials and TLS settings, appending what is wrong with them to `problems`, except the TLS files'
    /// problems (``RedisTLSOptions/problems``), which `VigilConfig.validate()` and ``endpoint(host:port:)`` report.
    func settings(problems: inout [String]) -> (credentials: RedisCredentials?, tls: RedisTLSOptions?) {
        (credentials(problems: &problems), tls(problems: &problems))
    }

    /// An endpoint at `host:port` with these settings, or a `ValidationError` listing every problem.
    func endpoint(host: String, port: Int) throws -> RedisEndpoint {
        var problems: [String] = []
        let (credentials, tls) = settings(problems: &problems)
        problems += tls?.problems ?? []
        if !problems.isEmpty {
            throw ValidationError("invalid redis settings:\n" + problems.map { "  - \($0)" }.joined(separator: "\n"))
        }
        return RedisEndpoint(host: host, port: port, credentials: credentials, tls: tls)
    }

    private func credentials(problems: inout [String]) -> RedisCredentials? {
        let fromEnvironment = Environment.optionalString("VIGIL_REDIS_PASSWORD")
        var password = fromEnvironment
        if let file = redisPasswordFile {
            if fromEnvironment != nil {
                problems.append("set either VIGIL_REDIS_PASSWORD or --redis-password-file (VIGIL_REDIS_PASSWORD_FILE), not both")
            }
            if let data = FileManager.default.contents(atPath: file) {
                var text = String(decoding: data, as: UTF8.self)
                while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
                if text.isEmpty { problems.append("--redis-password-file \(file) is empty") }
                password = text
            } else {
                problems.append("--redis-password-file \(file) cannot be read")
            }
        }
        guard let password, !password.isEmpty else {
            if let redisUser {
                problems.append("--redis-user \(redisUser) needs a password: env VIGIL_REDIS_PASSWORD or --redis-password-file")
            }
            return nil
        }
        return RedisCredentials(user: redisUser, password: password)
    }

    private func tls(problems: inout [String]) -> RedisTLSOptions? {
        let options = RedisTLSOptions(caFile: redisTlsCa, certFile: redisTlsCert, keyFile: redisTlsKey, serverName: redisTlsServerName)
        guard redisTls else {
            if options != RedisTLSOptions() {
                problems.append("--redis-tls-ca, --redis-tls-cert, --redis-tls-key and --redis-tls-server-name need --redis-tls (VIGIL_REDIS_TLS=1)")
            }
            return nil
        }
        return options
    }
}
