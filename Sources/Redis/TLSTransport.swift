import CHiredis
import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One TLS session over a blocking TCP socket: the socket, OpenSSL's `SSL_CTX` and `SSL`, freed together in `deinit`.
/// Every OpenSSL call in the module goes through this type.
///
/// Why TLS is done here rather than by hiredis or a sidecar: Debian's hiredis 0.14 has no TLS (it arrived in 1.0, with
/// a separate `hiredis_ssl` library Debian 12 does not ship), and a local proxy such as stunnel adds a process to run
/// and monitor, a plaintext hop on the machine, and a copy per byte through another socket. So hiredis stays the
/// protocol library (it formats the commands and parses the replies, ``HiredisTLSContext``) and only the bytes go
/// through OpenSSL, in the calling thread, with the same blocking-with-timeouts model as the plain path: the command
/// timeout is `SO_RCVTIMEO`/`SO_SNDTIMEO` on the socket, which bounds every read and write `SSL_read`/`SSL_write` make.
///
/// The server's certificate must chain to the configured CA file (or the system's store) and carry the expected name
/// (the endpoint's host, or ``RedisTLSOptions/serverName``); TLS 1.2 is the oldest version accepted. The session ends
/// without a close_notify: RESP frames its own messages, so a truncated stream is never mistaken for a complete reply.
///
/// Not thread-safe: use from one thread at a time.
final class TLSTransport {
    private let socket: Int32
    private let context: OpaquePointer
    private let ssl: OpaquePointer
    /// "host:port", for error messages.
    let endpoint: String
    let commandTimeoutMs: Int

    /// Connects (hiredis's TCP connect, with its name resolution and connect timeout), then shakes hands and verifies
    /// the server's certificate, the handshake bounded by `connectTimeoutMs` per read or write.
    ///
    /// - Throws: ``RedisError/Kind/connect`` naming the address and the reason: unreadable CA, certificate or key
    ///   file, TCP failure, handshake timeout, or the verification failure as OpenSSL names it.
    init(host: String, port: Int, options: RedisTLSOptions, connectTimeoutMs: Int, commandTimeoutMs: Int)
        throws(RedisError)
    {
        ignoreSIGPIPEIfDefault()  // SSL_write uses write(2), as hiredis does
        let endpoint = "\(host):\(port)"
        let context = try Self.makeContext(options, endpoint: endpoint)
        var handedOver = false
        defer { if !handedOver { SSL_CTX_free(context) } }

        let socket = try Self.connectTCP(host: host, port: port, connectTimeoutMs: connectTimeoutMs, endpoint: endpoint)
        defer { if !handedOver { _ = close(socket) } }

        guard let ssl = SSL_new(context) else {
            throw RedisError(kind: .connect, message: "cannot connect to redis at \(endpoint): SSL_new failed: \(Self.drainErrors())")
        }
        defer { if !handedOver { SSL_free(ssl) } }

        let expectedName = options.serverName ?? host
        try Self.expect(name: expectedName, on: ssl, endpoint: endpoint)
        guard SSL_set_fd(ssl, socket) == 1 else {
            throw RedisError(kind: .connect, message: "cannot connect to redis at \(endpoint): SSL_set_fd failed: \(Self.drainErrors())")
        }
        try Self.setTimeouts(socket, milliseconds: connectTimeoutMs, endpoint: endpoint)
        try Self.handshake(ssl, options: options, expectedName: expectedName, connectTimeoutMs: connectTimeoutMs, endpoint: endpoint)
        try Self.setTimeouts(socket, milliseconds: commandTimeoutMs, endpoint: endpoint)

        self.socket = socket
        self.context = context
        self.ssl = ssl
        self.endpoint = endpoint
        self.commandTimeoutMs = commandTimeoutMs
        handedOver = true
    }

    deinit {
        SSL_free(ssl)
        SSL_CTX_free(context)
        _ = close(socket)
    }

    /// Writes all of `bytes` (`SSL_write` writes everything or fails, partial writes being off).
    func write(_ bytes: UnsafeRawBufferPointer, doing what: () -> String) throws(RedisError) {
        var offset = 0
        while offset < bytes.count {
            ERR_clear_error()
            let chunk = Int32(clamping: bytes.count - offset)
            let written = SSL_write(ssl, bytes.baseAddress! + offset, chunk)
            let savedErrno = errno
            if written <= 0 { throw failure(written, errno: savedErrno, doing: what()) }
            offset += Int(written)
        }
    }

    /// Reads what is available, at least one byte, waiting up to the command timeout. Returns the count read.
    func read(into buffer: UnsafeMutableRawBufferPointer, doing what: () -> String) throws(RedisError) -> Int {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        let savedErrno = errno
        if count <= 0 { throw failure(count, errno: savedErrno, doing: what()) }
        return Int(count)
    }

    // MARK: - Errors

    /// Maps a failed `SSL_read`/`SSL_write` to the kinds the plain path reports: a socket timeout (`EAGAIN`, which
    /// OpenSSL reports as `SSL_ERROR_WANT_READ`/`WANT_WRITE` on a blocking socket) is ``RedisError/Kind/timeout``, the
    /// server closing the connection ``RedisError/Kind/eof``, anything else ``RedisError/Kind/io``.
    private func failure(_ result: Int32, errno savedErrno: Int32, doing what: String) -> RedisError {
        let code = SSL_get_error(ssl, result)
        let prefix = "redis at \(endpoint): \(what) failed"
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return RedisError(kind: .timeout, message: "\(prefix): no reply within \(commandTimeoutMs) ms (TLS, \(String(cString: strerror(EAGAIN))))")
        case SSL_ERROR_ZERO_RETURN:
            return RedisError(kind: .eof, message: "\(prefix): Server closed the connection (TLS)")
        case SSL_ERROR_SYSCALL:
            if savedErrno == EAGAIN || savedErrno == EWOULDBLOCK {
                return RedisError(kind: .timeout, message: "\(prefix): no reply within \(commandTimeoutMs) ms (TLS, \(String(cString: strerror(savedErrno))))")
            }
            if savedErrno == 0 { return RedisError(kind: .eof, message: "\(prefix): Server closed the connection (TLS)") }
            return RedisError(kind: .io, message: "\(prefix): \(String(cString: strerror(savedErrno))) (TLS)")
        default:
            return RedisError(kind: .io, message: "\(prefix): TLS error: \(Self.drainErrors())")
        }
    }

    /// The reasons on OpenSSL's error queue of this thread, oldest first, emptying it.
    private static func drainErrors() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "no reason given by OpenSSL" : reasons.joined(separator: "; ")
    }

    // MARK: - Setup

    /// A client context: TLS 1.2 or later, the peer verified against the CA file (or the system's store), and the
    /// client certificate and key if given.
    private static func makeContext(_ options: RedisTLSOptions, endpoint: String) throws(RedisError) -> OpaquePointer {
        let prefix = "cannot connect to redis at \(endpoint) over TLS"
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw RedisError(kind: .connect, message: "\(prefix): SSL_CTX_new failed: \(drainErrors())")
        }
        var ok = false
        defer { if !ok { SSL_CTX_free(context) } }
        guard COpenSSL_SSL_CTX_set_min_proto_version_tls12(context) == 1 else {
            throw RedisError(kind: .connect, message: "\(prefix): cannot require TLS 1.2: \(drainErrors())")
        }
        COpenSSL_SSL_CTX_ignore_unexpected_eof(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        if let caFile = options.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw RedisError(kind: .tls, message: "\(prefix): cannot load CA file \(caFile): \(drainErrors())")
            }
        } else {
            guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                throw RedisError(kind: .connect, message: "\(prefix): cannot load the system's CA certificates: \(drainErrors())")
            }
        }
        switch (options.certFile, options.keyFile) {
        case (nil, nil):
            break
        case (let certFile?, let keyFile?):
            guard SSL_CTX_use_certificate_chain_file(context, certFile) == 1 else {
                throw RedisError(kind: .tls, message: "\(prefix): cannot load client certificate \(certFile): \(drainErrors())")
            }
            guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
                throw RedisError(kind: .tls, message: "\(prefix): cannot load client key \(keyFile): \(drainErrors())")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw RedisError(kind: .tls, message: "\(prefix): client key \(keyFile) does not match certificate \(certFile): \(drainErrors())")
            }
        default:
            throw RedisError(kind: .tls, message: "\(prefix): a client certificate needs both a certificate file and a key file")
        }
        ok = true
        return context
    }

    /// The name the certificate must carry: a DNS name (also sent as SNI) or an IP address (checked against the IP
    /// SANs; RFC 6066 forbids an address as SNI).
    private static func expect(name: String, on ssl: OpaquePointer, endpoint: String) throws(RedisError) {
        let prefix = "cannot connect to redis at \(endpoint) over TLS"
        if isIPAddress(name) {
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1 else {
                throw RedisError(kind: .connect, message: "\(prefix): cannot expect address \(name): \(drainErrors())")
            }
            return
        }
        guard SSL_set1_host(ssl, name) == 1 else {
            throw RedisError(kind: .connect, message: "\(prefix): cannot expect name \(name): \(drainErrors())")
        }
        guard COpenSSL_SSL_set_tlsext_host_name(ssl, name) == 1 else {
            throw RedisError(kind: .connect, message: "\(prefix): cannot send server name \(name): \(drainErrors())")
        }
    }

    private static func handshake(
        _ ssl: OpaquePointer, options: RedisTLSOptions, expectedName: String, connectTimeoutMs: Int, endpoint: String
    ) throws(RedisError) {
        let prefix = "cannot connect to redis at \(endpoint): TLS handshake failed"
        ERR_clear_error()
        let result = SSL_connect(ssl)
        if result == 1 { return }
        let savedErrno = errno
        let code = SSL_get_error(ssl, result)
        let verification = SSL_get_verify_result(ssl)
        if verification != X509_V_OK {
            _ = drainErrors()
            let reason = String(cString: X509_verify_cert_error_string(verification))
            let trusted = options.caFile.map { "CA file \($0)" } ?? "the system's CA store"
            throw RedisError(
                kind: .tls,
                message: "\(prefix): the server's certificate was refused: \(reason) (expected name \(expectedName), trusting \(trusted))")
        }
        switch code {
        // A plain Redis port reads the ClientHello as the start of an inline command and waits for the rest.
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            throw RedisError(kind: .connect, message: "\(prefix): no answer within \(connectTimeoutMs) ms (is \(endpoint) a TLS port?)")
        case SSL_ERROR_SYSCALL where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK:
            throw RedisError(kind: .connect, message: "\(prefix): no answer within \(connectTimeoutMs) ms (is \(endpoint) a TLS port?)")
        case SSL_ERROR_SYSCALL where savedErrno != 0:
            throw RedisError(kind: .connect, message: "\(prefix): \(String(cString: strerror(savedErrno)))")
        case SSL_ERROR_SYSCALL, SSL_ERROR_ZERO_RETURN:
            throw RedisError(kind: .connect, message: "\(prefix): the server closed the connection (is \(endpoint) a TLS port?)")
        default:
            let reasons = drainErrors()
            let hint = reasons.contains("wrong version number") || reasons.contains("packet length too long")
                ? " (is \(endpoint) a TLS port?)" : ""
            throw RedisError(kind: .connect, message: "\(prefix): \(reasons)\(hint)")
        }
    }

    /// A connected blocking TCP socket, through hiredis's connect (name resolution, connect timeout, TCP_NODELAY),
    /// whose context is then freed keeping the descriptor.
    private static func connectTCP(host: String, port: Int, connectTimeoutMs: Int, endpoint: String) throws(RedisError)
        -> Int32
    {
        let connected = try HiredisContext.connect(
            host: host, port: port, connectTimeoutMs: connectTimeoutMs, endpoint: endpoint)
        return redisFreeKeepFd(connected)
    }

    /// `SO_RCVTIMEO` and `SO_SNDTIMEO`; 0 or less is no timeout.
    private static func setTimeouts(_ socket: Int32, milliseconds: Int, endpoint: String) throws(RedisError) {
        var value = timeval(milliseconds: max(0, milliseconds))
        let size = socklen_t(MemoryLayout<timeval>.size)
        if setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &value, size) != 0
            || setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &value, size) != 0
        {
            throw RedisError(
                kind: .connect,
                message: "cannot set a \(milliseconds) ms timeout on redis connection to \(endpoint): \(String(cString: strerror(errno)))")
        }
    }

    private static func isIPAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }
}
