import CHiredis

/// The TLS wire: hiredis formats the commands (`redisFormatCommandArgv`) and parses the replies (a `redisReader`),
/// ``TLSTransport`` carries the bytes. It offers what ``HiredisContext`` offers, with the same buffering (commands are
/// appended to an output buffer, written by ``flushOutput(doing:)`` or before the next read) and the same errors, so
/// ``RedisConnection`` behaves the same over either wire.
///
/// Not thread-safe: use from one thread at a time.
final class HiredisTLSContext {
    private let transport: TLSTransport
    private let reader: UnsafeMutablePointer<redisReader>
    private let arguments = HiredisArguments()
    /// Formatted commands not written yet.
    private var output: [UInt8] = []
    /// What one `SSL_read` may fill: a TLS record holds at most 16 KiB of plaintext.
    private let input: UnsafeMutableRawBufferPointer
    var endpoint: String { transport.endpoint }

    /// Connects and shakes hands (``TLSTransport``).
    init(host: String, port: Int, options: RedisTLSOptions, connectTimeoutMs: Int, commandTimeoutMs: Int)
        throws(RedisError)
    {
        transport = try TLSTransport(
            host: host, port: port, options: options, connectTimeoutMs: connectTimeoutMs,
            commandTimeoutMs: commandTimeoutMs)
        guard let reader = redisReaderCreate() else {
            throw RedisError(kind: .connect, message: "cannot connect to redis at \(host):\(port): out of memory allocating the reply reader")
        }
        self.reader = reader
        input = .allocate(byteCount: 16 * 1024, alignment: 8)
    }

    deinit {
        redisReaderFree(reader)
        input.deallocate()
    }

    /// Sends one command and waits for its reply.
    func command(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try append(command)
        return try nextReply(doing: command.name)
    }

    /// Adds a command to the output buffer without sending it.
    func append(_ command: RedisCommand) throws(RedisError) {
        var formatted: UnsafeMutablePointer<CChar>?
        let length = arguments.with(command) { argc, argv, lengths in
            redisFormatCommandArgv(&formatted, argc, argv, lengths)
        }
        guard length >= 0, let formatted else {
            throw RedisError(kind: .io, message: "redis at \(endpoint): buffering \(command.name) failed: out of memory")
        }
        defer { redisFreeCommand(formatted) }
        output.append(contentsOf: UnsafeRawBufferPointer(start: formatted, count: Int(length)))
    }

    /// Writes the whole output buffer now, without reading.
    func flushOutput(doing what: @autoclosure () -> String) throws(RedisError) {
        if output.isEmpty { return }
        // withUnsafeBytes rethrows untyped errors; a Result keeps the type.
        let written = output.withUnsafeBytes { bytes in
            Result { () throws(RedisError) in try transport.write(bytes, doing: what) }
        }
        try written.get()
        output.removeAll(keepingCapacity: true)
    }

    /// Flushes the output buffer if needed and waits for the next reply, feeding the reader until it has one.
    func nextReply(doing what: @autoclosure () -> String) throws(RedisError) -> RedisReply {
        try flushOutput(doing: what())
        while true {
            var raw: UnsafeMutableRawPointer?
            if redisReaderGetReply(reader, &raw) != REDIS_OK {
                throw RedisError(kind: .protocolError, message: "redis at \(endpoint): \(what()) failed: \(readerError())")
            }
            if let raw { return try HiredisContext.takeReply(raw) }
            let count = try transport.read(into: input, doing: what)
            if redisReaderFeed(reader, input.baseAddress!.assumingMemoryBound(to: CChar.self), count) != REDIS_OK {
                throw RedisError(kind: .protocolError, message: "redis at \(endpoint): \(what()) failed: \(readerError())")
            }
        }
    }

    /// The reader's `errstr`, a NUL-terminated char[128].
    private func readerError() -> String {
        withUnsafeBytes(of: &reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
