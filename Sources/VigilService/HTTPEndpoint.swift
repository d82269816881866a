import Foundation
import Glibc

/// What an operational endpoint answers: a status, a media type and a body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
    }
}

/// Why the operational HTTP endpoint could not listen.
public enum HTTPEndpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The port is outside 0...65535.
    case invalidPort(Int)
    /// The host is neither an address nor a name that resolves on this machine.
    case invalidHost(String, reason: String)
    /// Another socket already listens on this address and port.
    case addressInUse(address: String)
    /// A system call failed while opening the listening socket.
    case system(call: String, address: String, errno: Int32, reason: String)

    public var description: String {
        switch self {
        case .invalidPort(let port): "invalid HTTP port \(port): must be 0...65535 (0 picks a free port)"
        case .invalidHost(let host, let reason): "cannot listen for HTTP on host '\(host)': \(reason)"
        case .addressInUse(let address): "cannot listen for HTTP on \(address): the port is already in use"
        case .system(let call, let address, let errno, let reason):
            "cannot listen for HTTP on \(address): \(call) failed: \(reason) (errno \(errno))"
        }
    }
}

/// A small HTTP/1.1 server for the operational endpoints (`/healthz`, `/readyz`, `/metrics`), kept off the hot path.
///
/// GET and HEAD only, one request per connection (`Connection: close`). Every connection is served at once by one
/// `poll(2)` loop on a thread of its own, so a slow or silent client holds no other back; each is bounded
/// (`HTTPEndpointLimits`): 2 s to send the request head, at most 8 KiB of it, 2 s to take the response, and at most 256
/// connections, a new one taking the place of the oldest that is still sending its request. The handler receives the
/// path without its query string, not percent-decoded; it runs for HEAD too (only the body is left out), on the
/// serving thread, so it must answer from memory.
///
/// Why hand-written and not SwiftNIO's NIOHTTP1: building NIOCore, NIOPosix and NIOHTTP1 from scratch took 1 min 48 s on
/// this project's 2-core machine (Vigil's whole build with tests: 3 min 12 s), on every CI run, which builds from
/// scratch, for three endpoints that answer from memory. The seam is the handler (`(path) -> HTTPResponse`) and
/// `HealthService`'s routes: moving to a library replaces this file only.
public final class HTTPEndpoint: @unchecked Sendable {
    /// The bound port; the one the system picked when `port` was 0.
    public let port: Int

    /// The largest request head (request line and header fields) accepted by default; larger ones get 431.
    static let requestLimit = HTTPEndpointLimits().maxHeadBytes

    public let limits: HTTPEndpointLimits
    private let loop: ServeLoop
    private let condition = NSCondition()
    private var state = State.bound
    private var acceptThread: pthread_t?

    private enum State { case bound, running, stopping, stopped }

    /// Binds and listens on host:port now, so a taken port fails here rather than later; connections queue until
    /// `start()`. The host is an address or a name (the first address it resolves to is used).
    public init(
        host: String = "0.0.0.0", port: Int, limits: HTTPEndpointLimits = HTTPEndpointLimits(),
        handler: @escaping @Sendable (_ path: String) -> HTTPResponse
    ) throws {
        guard (0...65_535).contains(port) else { throw HTTPEndpointError.invalidPort(port) }
        let (listener, boundPort) = try Self.listen(host: host, port: port)
        let wake: (read: Int32, write: Int32)
        do {
            wake = try POSIX.pipe()
        } catch {
            POSIX.close(listener)
            throw HTTPEndpointError.system(
                call: error.call, address: Self.address(host, port), errno: error.code, reason: error.reason)
        }
        self.port = boundPort
        self.limits = limits
        loop = ServeLoop(listener: listener, wakeRead: wake.read, wakeWrite: wake.write, limits: limits, handler: handler)
    }

    deinit { stop() }

    /// Connections accepted so far (for tests that need a client to be in the server's hands).
    var acceptedConnections: Int { loop.counts.accepted }

    /// Connections refused with 503 because every held one was being answered, and held ones closed to make room.
    var refusedConnections: Int { loop.counts.refused }
    var evictedConnections: Int { loop.counts.evicted }

    /// Starts serving on a new thread. Does nothing if already started or stopped.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard state == .bound else { return }
        let context = Unmanaged.passRetained(loop).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { context in
            let loop = Unmanaged<ServeLoop>.fromOpaque(context!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<ServeLoop>.fromOpaque(context).release()
            fatalError("HTTPEndpoint: cannot start the accept thread: \(String(cString: strerror(rc)))")
        }
        acceptThread = thread
        state = .running
    }

    /// Stops serving: abandons the connections in progress, closes the listening socket and joins the thread, so
    /// that on return new connections are refused. Idempotent. Called from a handler it cannot join its own
    /// thread: the socket then closes just after the handler returns.
    public func stop() {
        condition.lock()
        let onAcceptThread = acceptThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        switch state {
        case .stopped:
            condition.unlock()
            return
        case .stopping:
            while !onAcceptThread && state == .stopping { condition.wait() }
            condition.unlock()
            return
        case .bound:
            state = .stopping
            condition.unlock()
            loop.closeDescriptors()
        case .running:
            state = .stopping
            condition.unlock()
            loop.requestStop()
            if let thread = acceptThread {
                if onAcceptThread { pthread_detach(thread) } else { pthread_join(thread, nil) }
            }
        }
        condition.lock()
        state = .stopped
        condition.broadcast()
        condition.unlock()
    }

    static func address(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Opens a non-blocking, close-on-exec listening socket on the first address `host` resolves to.
    private static func listen(host: String, port: Int) throws(HTTPEndpointError) -> (fd: Int32, port: Int) {
        let address = address(host, port)
        let resolved: POSIX.ResolvedAddress
        do {
            resolved = try POSIX.resolve(host: host, port: port)
        } catch {
            throw .invalidHost(host, reason: error.reason)
        }
        let fd: Int32
        do {
            fd = try POSIX.socket(family: resolved.family)
        } catch {
            throw .system(call: error.call, address: address, errno: error.code, reason: error.reason)
        }
        do {
            try POSIX.setOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), name: "SO_REUSEADDR")
            try POSIX.bind(fd, resolved)
            // A burst of probes and scrapers must not overflow the queue: a dropped SYN is retried only after 1 s.
            try POSIX.listen(fd, backlog: 1024)
            return (fd, try POSIX.localPort(fd))
        } catch {
            POSIX.close(fd)
            if error.code == EADDRINUSE { throw .addressInUse(address: address) }
            throw .system(call: error.call, address: address, errno: error.code, reason: error.reason)
        }
    }
}

// MARK: - Serving

/// Limits of the endpoint: every client is served concurrently, bounded in number, time and size.
public struct HTTPEndpointLimits: Sendable, Equatable {
    /// Connections held at once. A connection arriving at the cap takes the place of the oldest one still sending its
    /// request (a slow or idle client); if every held connection is already being answered, it is refused at once
    /// with 503.
    public var maxConnections = 256
    /// How long a client has to send its request head, from when it was accepted (then 408, or closed if it sent
    /// nothing).
    public var requestTimeout: Duration = .seconds(2)
    /// How long a client has to take the response.
    public var writeTimeout: Duration = .seconds(2)
    /// The largest request head (request line and header fields); larger ones get 431.
    public var maxHeadBytes = 8 * 1024

    public init() {}
}

/// The serving thread's half of the endpoint: one `poll(2)` loop over the listening socket, a wake pipe that `stop()`
/// writes to, and every connection (non-blocking), so that no client can hold another back. The handler runs on this
/// thread and must answer from memory (it does: `HealthService` reads state the pipeline keeps current).
private final class ServeLoop: @unchecked Sendable {
    private let listener: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let handler: @Sendable (String) -> HTTPResponse
    private let limits: HTTPEndpointLimits
    private let lock = NSLock()
    private var open = true
    private var accepted = 0
    private var refused = 0
    private var evicted = 0
    /// Owned by the serving thread.
    private var connections: [Connection] = []

    private struct Connection {
        var fd: Int32
        var acceptedAt: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant
        var phase: Phase
    }

    private enum Phase {
        case reading(HTTPRequestHeadParser)
        case writing([UInt8], sent: Int)
        /// Half-closed after the response; reads what the client still sends, briefly, so that closing does not reset
        /// the connection before the client has read the response.
        case draining(drained: Int)
    }

    var counts: (accepted: Int, refused: Int, evicted: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (accepted, refused, evicted)
    }

    init(listener: Int32, wakeRead: Int32, wakeWrite: Int32, limits: HTTPEndpointLimits,
         handler: @escaping @Sendable (String) -> HTTPResponse) {
        self.listener = listener
        self.wakeRead = wakeRead
        self.wakeWrite = wakeWrite
        self.limits = limits
        self.handler = handler
    }

    deinit { closeDescriptors() }

    /// Wakes the loop for good (the byte is never read).
    func requestStop() {
        lock.lock()
        defer { lock.unlock() }
        if open { POSIX.writeByte(wakeWrite) }
    }

    func closeDescriptors() {
        lock.lock()
        defer { lock.unlock() }
        guard open else { return }
        open = false
        POSIX.close(listener)
        POSIX.close(wakeRead)
        POSIX.close(wakeWrite)
    }

    func run() {
        defer {
            for connection in connections { POSIX.close(connection.fd) }
            connections = []
            closeDescriptors()
        }
        var backOffUntil: ContinuousClock.Instant?
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            let now = ContinuousClock.now
            if let until = backOffUntil, until <= now { backOffUntil = nil }
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            fds.append(pollfd(fd: backOffUntil == nil ? listener : -1, events: Int16(POLLIN), revents: 0))
            for connection in connections {
                let events = if case .writing = connection.phase { POLLOUT } else { POLLIN }
                fds.append(pollfd(fd: connection.fd, events: Int16(events), revents: 0))
            }
            var wakeAt = connections.map(\.deadline).min()
            if let until = backOffUntil { wakeAt = min(wakeAt ?? until, until) }
            let timeoutMs = wakeAt.map { Self.milliseconds(until: $0, from: now) } ?? -1
            do {
                _ = try POSIX.poll(&fds, timeoutMs: timeoutMs)
            } catch {
                if error.code == EINTR || error.code == ENOMEM { continue }
                return
            }
            if fds[0].revents != 0 { return }  // stopping

            // Connections first (their indices match `fds` from 2 on), then expiries, then new connections.
            let now2 = ContinuousClock.now
            var closed = Set<Int>()
            for index in connections.indices where fds[index + 2].revents != 0 {
                if !advance(&connections[index], now: now2, scratch: &scratch) { closed.insert(index) }
            }
            for index in connections.indices where !closed.contains(index) && connections[index].deadline <= now2 {
                if !expire(&connections[index], now: now2) { closed.insert(index) }
            }
            if !closed.isEmpty {
                for index in closed { POSIX.close(connections[index].fd) }
                connections = connections.enumerated().filter { !closed.contains($0.offset) }.map(\.element)
            }
            if fds[1].revents != 0 {
                if !acceptPending(now: now2) { backOffUntil = now2 + .milliseconds(100) }
            }
        }
    }

    /// Accepts every connection waiting; false when out of descriptors or memory (the caller backs off instead of
    /// spinning on a listener that stays readable).
    private func acceptPending(now: ContinuousClock.Instant) -> Bool {
        for _ in 0..<64 {
            let fd: Int32
            do {
                fd = try POSIX.accept(listener)
            } catch {
                switch error.code {
                case EAGAIN, EWOULDBLOCK: return true
                case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP, ENETUNREACH:
                    continue  // the client went away, or a network error that accept(2) says to treat as transient
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    return false
                default:
                    return true  // a broken listener shows again on the next poll
                }
            }
            lock.lock()
            accepted += 1
            lock.unlock()
            if connections.count >= limits.maxConnections && !makeRoom() {
                refuse(fd)
                continue
            }
            connections.append(Connection(
                fd: fd, acceptedAt: now, deadline: now + limits.requestTimeout,
                phase: .reading(HTTPRequestHeadParser(limit: limits.maxHeadBytes))))
        }
        return true
    }

    /// Closes the oldest connection still sending its request, to take a new one; false if there is none.
    private func makeRoom() -> Bool {
        var oldest: Int?
        for (index, connection) in connections.enumerated() {
            guard case .reading = connection.phase else { continue }
            if oldest.map({ connections[$0].acceptedAt > connection.acceptedAt }) ?? true { oldest = index }
        }
        guard let oldest else { return false }
        lock.lock()
        evicted += 1
        lock.unlock()
        POSIX.close(connections[oldest].fd)
        connections.remove(at: oldest)
        return true
    }

    /// Over the cap with every connection being answered: one non-blocking attempt at a 503, then close.
    private func refuse(_ fd: Int32) {
        lock.lock()
        refused += 1
        lock.unlock()
        let reply = HTTPEndpoint.errorResponse(status: 503, headOnly: false)
        _ = try? POSIX.send(fd, reply, from: 0)
        POSIX.close(fd)
    }

    /// Serves what the connection is ready for; false when it is finished (to be closed).
    private func advance(_ c: inout Connection, now: ContinuousClock.Instant, scratch: inout [UInt8]) -> Bool {
        switch c.phase {
        case .reading(var parser):
            while true {
                let count: Int
                do {
                    count = try POSIX.receive(c.fd, into: &scratch, max: min(scratch.count, parser.remainingCapacity))
                } catch {
                    if error.code == EAGAIN || error.code == EWOULDBLOCK {
                        c.phase = .reading(parser)
                        return true
                    }
                    return false  // reset: nothing worth answering
                }
                if count == 0 {
                    guard parser.consumed > 0 else { return false }
                    return respond(&c, HTTPEndpoint.errorResponse(status: 400, headOnly: false), now: now)
                }
                switch parser.consume(scratch[0..<count]) {
                case .needMore: continue
                case .complete(let head): return respond(&c, HTTPEndpoint.response(to: head, handler: handler), now: now)
                case .invalid(let status):
                    return respond(&c, HTTPEndpoint.errorResponse(status: status, headOnly: false), now: now)
                }
            }
        case .writing(let bytes, let sent):
            return write(&c, bytes, from: sent, now: now)
        case .draining(var drained):
            while drained < 64 * 1024 {
                let received = Result { () throws(SystemCallError) in
                    try POSIX.receive(c.fd, into: &scratch, max: scratch.count)
                }
                switch received {
                case .success(0): return false
                case .success(let count): drained += count
                case .failure(let error):
                    c.phase = .draining(drained: drained)
                    return error.code == EAGAIN || error.code == EWOULDBLOCK
                }
            }
            return false
        }
    }

    private func respond(_ c: inout Connection, _ bytes: [UInt8], now: ContinuousClock.Instant) -> Bool {
        c.deadline = now + limits.writeTimeout
        return write(&c, bytes, from: 0, now: now)
    }

    private func write(_ c: inout Connection, _ bytes: [UInt8], from start: Int, now: ContinuousClock.Instant) -> Bool {
        var sent = start
        while sent < bytes.count {
            do {
                sent += try POSIX.send(c.fd, bytes, from: sent)
            } catch {
                if error.code == EAGAIN || error.code == EWOULDBLOCK {
                    c.phase = .writing(bytes, sent: sent)
                    return true
                }
                return false
            }
        }
        // Closing with unread request bytes (a body, the rest of an oversized head) makes the kernel send a reset,
        // which can destroy the response before the client reads it. So: half-close, then briefly read what is left.
        POSIX.shutdownWrite(c.fd)
        c.phase = .draining(drained: 0)
        c.deadline = now + .milliseconds(250)
        return true
    }

    /// The connection's deadline passed: a client that sent part of a request gets 408, one that sent nothing is
    /// closed; a response not taken in time or a drain that lasts is cut off.
    private func expire(_ c: inout Connection, now: ContinuousClock.Instant) -> Bool {
        guard case .reading(let parser) = c.phase, parser.consumed > 0 else { return false }
        return respond(&c, HTTPEndpoint.errorResponse(status: 408, headOnly: false), now: now)
    }

    static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int32 {
        let remaining = now.duration(to: deadline)
        if remaining <= .zero { return 0 }
        let (seconds, attoseconds) = remaining.components
        return Int32(clamping: seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
    }
}

// MARK: - Requests and responses (no I/O)

/// The parts of a request head the endpoint acts on.
struct HTTPRequestHead: Equatable {
    var method: String
    var target: String
}

/// Reads a request head incrementally, a byte at a time, rejecting what is not HTTP/1.x as soon as it is seen.
/// Accepts bare LF line ends and ignores empty lines before the request line (RFC 9112 §2.2); rejects obsolete
/// line folding, whitespace before a field's colon and control characters with 400.
struct HTTPRequestHeadParser {
    enum Result: Equatable {
        case needMore
        case complete(HTTPRequestHead)
        case invalid(status: Int)
    }

    let limit: Int
    private(set) var consumed = 0
    private var state = State.leadingLines
    private var method: [UInt8] = []
    private var target: [UInt8] = []
    private var version: [UInt8] = []
    private var result = Result.needMore

    private enum State {
        case leadingLines, method, target, version, versionCR, lineStart, fieldName, fieldValue, fieldCR, finalCR
    }

    init(limit: Int) { self.limit = limit }

    /// How many more bytes the head may have.
    var remainingCapacity: Int { limit - consumed }

    /// Consumes bytes until the head is complete or invalid; bytes after the head (a body) are ignored.
    mutating func consume(_ bytes: some Collection<UInt8>) -> Result {
        guard result == .needMore else { return result }
        for byte in bytes {
            consumed += 1
            result = step(byte)
            if result != .needMore { return result }
            if consumed >= limit {
                result = .invalid(status: 431)
                return result
            }
        }
        return result
    }

    private static let cr = UInt8(ascii: "\r"), lf = UInt8(ascii: "\n"), space = UInt8(ascii: " ")

    private mutating func step(_ byte: UInt8) -> Result {
        let bad = Result.invalid(status: 400)
        switch state {
        case .leadingLines:
            if byte == Self.cr || byte == Self.lf { return .needMore }
            state = .method
            return step(byte)
        case .method:
            if byte == Self.space {
                state = .target
            } else {
                guard Self.isTokenByte(byte), method.count < 32 else { return bad }
                method.append(byte)
            }
        case .target:
            if byte == Self.space {
                guard !target.isEmpty else { return bad }
                state = .version
            } else {
                guard (0x21...0x7E).contains(byte) else { return bad }
                target.append(byte)
            }
        case .version:
            if byte == Self.cr {
                state = .versionCR
            } else if byte == Self.lf {
                return endOfRequestLine()
            } else {
                guard version.count < 8 else { return bad }
                version.append(byte)
            }
        case .versionCR:
            return byte == Self.lf ? endOfRequestLine() : bad
        case .lineStart:
            if byte == Self.cr {
                state = .finalCR
            } else if byte == Self.lf {
                return complete()
            } else {
                guard Self.isTokenByte(byte) else { return bad }
                state = .fieldName
            }
        case .fieldName:
            if byte == UInt8(ascii: ":") {
                state = .fieldValue
            } else if !Self.isTokenByte(byte) {
                return bad
            }
        case .fieldValue:
            if byte == Self.cr {
                state = .fieldCR
            } else if byte == Self.lf {
                state = .lineStart
            } else if byte != UInt8(ascii: "\t") && (byte < 0x20 || byte == 0x7F) {
                return bad
            }
        case .fieldCR:
            guard byte == Self.lf else { return bad }
            state = .lineStart
        case .finalCR:
            return byte == Self.lf ? complete() : bad
        }
        return .needMore
    }

    private mutating func endOfRequestLine() -> Result {
        let digits = UInt8(ascii: "0")...UInt8(ascii: "9")
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), digits.contains(version[5]),
            version[6] == UInt8(ascii: "."), digits.contains(version[7])
        else { return .invalid(status: 400) }
        guard version[5] == UInt8(ascii: "1") else { return .invalid(status: 505) }
        state = .lineStart
        return .needMore
    }

    private func complete() -> Result {
        .complete(HTTPRequestHead(method: String(decoding: method, as: UTF8.self), target: String(decoding: target, as: UTF8.self)))
    }

    /// RFC 9110 token characters: letters, digits and !#$%&'*+-.^_`|~
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}

extension HTTPEndpoint {
    /// The response to a complete request head: 405 for other methods, 400 for a target that is not a path,
    /// otherwise the handler's answer.
    static func response(to head: HTTPRequestHead, handler: (String) -> HTTPResponse) -> [UInt8] {
        let headOnly = head.method == "HEAD"
        guard head.method == "GET" || headOnly else { return errorResponse(status: 405, headOnly: false) }
        guard let path = path(fromTarget: head.target) else { return errorResponse(status: 400, headOnly: headOnly) }
        return serialize(handler(path), headOnly: headOnly)
    }

    /// The path of an origin-form (`/p?q`) or absolute-form (`http://host/p?q`) target, without query or fragment.
    static func path(fromTarget target: String) -> String? {
        var rest = Substring(target)
        if !rest.hasPrefix("/") {
            let lowered = rest.lowercased()
            guard let scheme = ["http://", "https://"].first(where: { lowered.hasPrefix($0) }) else { return nil }
            rest = rest.dropFirst(scheme.count)
            guard let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }), rest[slash] == "/"
            else { return "/" }
            rest = rest[slash...]
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<end] }
        return String(rest)
    }

    static func errorResponse(status: Int, headOnly: Bool) -> [UInt8] {
        let response = HTTPResponse(status: status, body: reasonPhrase(status).lowercased() + "\n")
        return serialize(response, headOnly: headOnly, extraHeaders: status == 405 ? ["Allow: GET, HEAD"] : [])
    }

    /// The bytes on the wire. A status outside 200...599 is the handler's bug and becomes 500; control characters
    /// in the content type are dropped so a handler cannot inject header lines.
    static func serialize(_ response: HTTPResponse, headOnly: Bool, extraHeaders: [String] = []) -> [UInt8] {
        var response = response
        if !(200...599).contains(response.status) {
            response = HTTPResponse(status: 500, body: "handler returned invalid status \(response.status)\n")
        }
        let bodyless = response.status == 204 || response.status == 304
        var head = "HTTP/1.1 \(response.status) \(reasonPhrase(response.status))\r\n"
        if !bodyless {
            let contentType = String(response.contentType.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
            head += "Content-Type: \(contentType)\r\nContent-Length: \(response.body.count)\r\n"
        }
        for header in extraHeaders { head += header + "\r\n" }
        head += "Connection: close\r\n\r\n"
        var bytes = Array(head.utf8)
        if !headOnly && !bodyless { bytes += response.body }
        return bytes
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        case 200..<300: "Success"
        case 300..<400: "Redirection"
        case 400..<500: "Client Error"
        default: "Server Error"
        }
    }
}

// MARK: - System calls, each wrapped once

/// A failed system call: which one and its errno.
private struct SystemCallError: Error {
    var call: String
    var code: Int32
    /// Set when the failure has no errno (getaddrinfo).
    var detail: String? = nil
    var reason: String { detail ?? String(cString: strerror(code)) }
}

/// The socket calls the endpoint makes. Interrupted calls (EINTR) are retried here, except poll, whose caller
/// recomputes its timeout.
private enum POSIX {
    struct ResolvedAddress {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    static func resolve(host: String, port: Int) throws(SystemCallError) -> ResolvedAddress {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            let reason = rc == EAI_SYSTEM ? String(cString: strerror(errno)) : String(cString: gai_strerror(rc))
            throw SystemCallError(call: "getaddrinfo", code: rc == EAI_SYSTEM ? errno : 0, detail: reason)
        }
        defer { freeaddrinfo(list) }
        var storage = sockaddr_storage()
        let length = min(first.pointee.ai_addrlen, socklen_t(MemoryLayout<sockaddr_storage>.size))
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(length))) }
        return ResolvedAddress(family: first.pointee.ai_family, storage: storage, length: length)
    }

    static func socket(family: Int32) throws(SystemCallError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = Glibc.socket(family, type, 0)
        guard fd >= 0 else { throw SystemCallError(call: "socket", code: errno) }
        return fd
    }

    static func setOption<Value>(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: Value, name: String)
        throws(SystemCallError)
    {
        let rc = withUnsafePointer(to: value) { setsockopt(fd, level, option, $0, socklen_t(MemoryLayout<Value>.size)) }
        guard rc == 0 else { throw SystemCallError(call: "setsockopt(\(name))", code: errno) }
    }

    static func bind(_ fd: Int32, _ address: ResolvedAddress) throws(SystemCallError) {
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, address.length) }
        }
        guard rc == 0 else { throw SystemCallError(call: "bind", code: errno) }
    }

    static func listen(_ fd: Int32, backlog: Int32) throws(SystemCallError) {
        guard Glibc.listen(fd, backlog) == 0 else { throw SystemCallError(call: "listen", code: errno) }
    }

    static func localPort(_ fd: Int32) throws(SystemCallError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw SystemCallError(call: "getsockname", code: errno) }
        return withUnsafeBytes(of: storage) { raw in
            switch Int32(storage.ss_family) {
            case AF_INET6: Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            default: Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            }
        }
    }

    /// A new connection, non-blocking and close-on-exec. (Swift's Glibc module does not export accept4, so the flags
    /// are set just after; a fork in that instant could leak the descriptor into a child.)
    static func accept(_ fd: Int32) throws(SystemCallError) -> Int32 {
        while true {
            let connection = Glibc.accept(fd, nil, nil)
            if connection >= 0 {
                // Linux does not pass the listener's O_NONBLOCK on to accepted sockets.
                _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
                _ = fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) | O_NONBLOCK)
                return connection
            }
            if errno != EINTR { throw SystemCallError(call: "accept", code: errno) }
        }
    }

    /// The number of descriptors with events; 0 on timeout.
    static func poll(_ fds: inout [pollfd], timeoutMs: Int32) throws(SystemCallError) -> Int {
        let rc = Glibc.poll(&fds, nfds_t(fds.count), timeoutMs)
        guard rc >= 0 else { throw SystemCallError(call: "poll", code: errno) }
        return Int(rc)
    }

    /// The number of bytes read into the front of `buffer`; 0 at end of stream.
    static func receive(_ fd: Int32, into buffer: inout [UInt8], max: Int) throws(SystemCallError) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, Swift.min(max, $0.count), 0) }
            if count >= 0 { return count }
            if errno != EINTR { throw SystemCallError(call: "recv", code: errno) }
        }
    }

    /// Sends from `offset` on, without SIGPIPE if the peer has gone; the number of bytes sent.
    static func send(_ fd: Int32, _ bytes: [UInt8], from offset: Int) throws(SystemCallError) -> Int {
        while true {
            let count = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if count >= 0 { return count }
            if errno != EINTR { throw SystemCallError(call: "send", code: errno) }
        }
    }

    static func shutdownWrite(_ fd: Int32) {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// A close-on-exec, non-blocking pipe (pipe2 is not exported by Swift's Glibc module).
    static func pipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard Glibc.pipe(&fds) == 0 else { throw SystemCallError(call: "pipe", code: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return (fds[0], fds[1])
    }

    static func writeByte(_ fd: Int32) {
        var byte: UInt8 = 1
        _ = write(fd, &byte, 1)
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
