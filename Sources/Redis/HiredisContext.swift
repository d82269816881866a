import CHiredis

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Owns one hiredis `redisContext`: the plain-TCP wire. Every hiredis call of that path goes through this type, which
/// turns hiredis error flags into ``RedisError`` and frees the context exactly once, in `deinit`. (TLS connections use
/// hiredis only to format commands and parse replies: ``HiredisTLSContext``.)
///
/// Not thread-safe: use from one thread at a time (``RedisConnection`` guarantees this by contract).
final class HiredisContext {
    private let context: UnsafeMutablePointer<redisContext>
    /// "host:port", for error messages.
    let endpoint: String
    let commandTimeoutMs: Int

    /// Reused argv/argvlen arrays handed to hiredis, so sending allocates nothing here.
    private let arguments = HiredisArguments()

    /// Opens a blocking TCP connection. `connectTimeoutMs <= 0` waits as long as the OS does;
    /// `commandTimeoutMs <= 0` waits for replies forever.
    init(host: String, port: Int, connectTimeoutMs: Int, commandTimeoutMs: Int) throws(RedisError) {
        ignoreSIGPIPEIfDefault()
        let endpoint = "\(host):\(port)"
        let connected = try Self.connect(host: host, port: port, connectTimeoutMs: connectTimeoutMs, endpoint: endpoint)
        // Set even when disabled (0 means "no timeout" for SO_RCVTIMEO/SO_SNDTIMEO), so the socket's timeout is
        // exactly the configured one whatever the connect path left on it (0.14 leaves none; later versions differ).
        if redisSetTimeout(connected, timeval(milliseconds: max(0, commandTimeoutMs))) != REDIS_OK {
            let reason = Self.errorString(connected)
            redisFree(connected)
            throw RedisError(kind: .connect, message: "cannot set a \(commandTimeoutMs) ms command timeout on redis connection to \(endpoint): \(reason)")
        }

        self.context = connected
        self.endpoint = endpoint
        self.commandTimeoutMs = commandTimeoutMs
    }

    /// hiredis's blocking TCP connect (name resolution, connect timeout, TCP_NODELAY): a connected context, or the
    /// reason it is not. Also the TCP part of a TLS connection (`TLSTransport`).
    static func connect(host: String, port: Int, connectTimeoutMs: Int, endpoint: String) throws(RedisError)
        -> UnsafeMutablePointer<redisContext>
    {
        guard (1...65535).contains(port) else {
            throw RedisError(kind: .connect, message: "cannot connect to redis at \(endpoint): port out of range")
        }
        let connected: UnsafeMutablePointer<redisContext>? =
            if connectTimeoutMs > 0 {
                redisConnectWithTimeout(host, Int32(port), timeval(milliseconds: connectTimeoutMs))
            } else {
                redisConnect(host, Int32(port))
            }
        guard let connected else {
            throw RedisError(kind: .connect, message: "cannot connect to redis at \(endpoint): out of memory allocating the context")
        }
        if connected.pointee.err != 0 {
            // A failed connect still returns a context holding the reason; it must be freed here.
            let reason = errorString(connected)
            redisFree(connected)
            throw RedisError(kind: .connect, message: "cannot connect to redis at \(endpoint): \(reason)")
        }
        return connected
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command and waits for its reply (`redisCommandArgv`).
    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        let raw = arguments.with(command) { argc, argv, lengths in
            redisCommandArgv(context, argc, argv, lengths)
        }
        let savedErrno = errno
        guard let raw else { throw currentError(errno: savedErrno, doing: command.name) }
        return try Self.takeReply(raw)
    }

    /// Adds a command to the output buffer without sending it (`redisAppendCommandArgv`).
    func append(_ command: RedisCommand) throws(RedisError) {
        let status = arguments.with(command) { argc, argv, lengths in
            redisAppendCommandArgv(context, argc, argv, lengths)
        }
        let savedErrno = errno
        if status != REDIS_OK { throw currentError(errno: savedErrno, doing: "buffering \(command.name)") }
    }

    /// Writes the whole output buffer to the socket now (`redisBufferWrite` until done), without reading.
    func flushOutput(doing what: @autoclosure () -> String) throws(RedisError) {
        var done: Int32 = 0
        while done == 0 {
            let status = redisBufferWrite(context, &done)
            let savedErrno = errno
            if status != REDIS_OK { throw currentError(errno: savedErrno, doing: what()) }
        }
    }

    /// Flushes the output buffer if needed and waits for the next reply (`redisGetReply`).
    func nextReply(doing what: @autoclosure () -> String) throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        let status = redisGetReply(context, &raw)
        let savedErrno = errno
        guard status == REDIS_OK else { throw currentError(errno: savedErrno, doing: what()) }
        guard let raw else {
            throw RedisError(kind: .protocolError, message: "redis at \(endpoint): \(what()) got no reply object from hiredis")
        }
        return try Self.takeReply(raw)
    }

    // MARK: - Replies

    /// Converts a top-level reply and frees it: `freeReplyObject` frees nested elements too, so it is
    /// called once, on the root only.
    static func takeReply(_ raw: UnsafeMutableRawPointer) throws(RedisError) -> RedisReply {
        defer { freeReplyObject(raw) }
        return try convert(UnsafePointer(raw.assumingMemoryBound(to: redisReply.self)))
    }

    private static func convert(_ reply: UnsafePointer<redisReply>) throws(RedisError) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(Array(UnsafeRawBufferPointer(start: r.str, count: r.len)))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: UnsafeRawBufferPointer(start: r.str, count: r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int64(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(r.elements)
            for i in 0..<r.elements {
                if let element = r.element[i] {
                    elements.append(try convert(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            throw RedisError(kind: .protocolError, message: "hiredis returned unknown reply type \(r.type)")
        }
    }

    // MARK: - Errors

    /// Maps the context's error flag to a ``RedisError``. hiredis 0.14 reports a socket timeout
    /// (SO_RCVTIMEO/SO_SNDTIMEO) as `REDIS_ERR_IO` with errno `EAGAIN`; that becomes ``RedisError/Kind/timeout``.
    private func currentError(errno savedErrno: Int32, doing what: String) -> RedisError {
        let reason = Self.errorString(context)
        let prefix = "redis at \(endpoint): \(what) failed"
        switch context.pointee.err {
        case REDIS_ERR_IO:
            let timedOut = savedErrno == EAGAIN || savedErrno == EWOULDBLOCK
                || reason == String(cString: strerror(EAGAIN))
            if timedOut {
                return RedisError(kind: .timeout, message: "\(prefix): no reply within \(commandTimeoutMs) ms (\(reason))")
            }
            return RedisError(kind: .io, message: "\(prefix): \(reason)")
        case REDIS_ERR_EOF:
            return RedisError(kind: .eof, message: "\(prefix): \(reason)")
        case REDIS_ERR_PROTOCOL:
            return RedisError(kind: .protocolError, message: "\(prefix): \(reason)")
        case REDIS_ERR_OOM:
            return RedisError(kind: .io, message: "\(prefix): out of memory (\(reason))")
        default:
            return RedisError(kind: .io, message: "\(prefix): \(reason.isEmpty ? "unknown hiredis error \(context.pointee.err)" : reason)")
        }
    }

    /// The context's `errstr`, a NUL-terminated char[128].
    static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: &context.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

extension timeval {
    init(milliseconds: Int) {
        self.init(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
    }
}

/// hiredis 0.14 writes with `write(2)`, so writing to a connection the server has closed raises SIGPIPE,
/// which kills the process by default. Ignore it (writes then fail with EPIPE, reported as an I/O error),
/// but only if nobody installed a handler of their own.
func ignoreSIGPIPEIfDefault() {
    _ = sigpipeIgnored
}

private let sigpipeIgnored: Bool = {
    var current = sigaction()
    guard sigaction(SIGPIPE, nil, &current) == 0 else { return false }
    // SIG_DFL is the null handler, and the handler union is the first member of `struct sigaction`
    // (C function pointers are not comparable in Swift, so read the pointer bits).
    let isDefault = withUnsafeBytes(of: &current) { $0.load(as: UInt.self) } == 0
    guard isDefault else { return false }
    _ = signal(SIGPIPE, SIG_IGN)
    return true
}()
