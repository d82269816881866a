import Foundation
import Glibc
@testable import VigilService
import XCTest

/// The operational HTTP endpoint over real sockets, with a raw client (URLSession is unreliable on Linux without a
/// network, and these tests must send bytes no HTTP client would).
final class HTTPEndpointTests: XCTestCase {
    /// Paths the handler saw, to check what reached it.
    final class PathLog: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [String] = []
        func append(_ path: String) { lock.lock(); paths.append(path); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return paths }
    }

    static let metricsText = "# TYPE vigil_up gauge\nvigil_up 1\n"

    func makeEndpoint(log: PathLog = PathLog()) throws -> HTTPEndpoint {
        let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0) { path in
            log.append(path)
            switch path {
            case "/healthz": return HTTPResponse(status: 200, body: "ok\n")
            case "/readyz": return HTTPResponse(status: 503, body: "not ready: partitions unassigned\n")
            case "/metrics":
                return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Self.metricsText)
            default: return HTTPResponse(status: 404, body: "not found\n")
            }
        }
        endpoint.start()
        return endpoint
    }

    // MARK: Serving

    func testHealthzAnswersWithStatusLineHeadersAndBody() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        XCTAssertGreaterThan(endpoint.port, 0)
        let r = try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(r.headers["content-type"], "text/plain; charset=utf-8")
        XCTAssertEqual(r.headers["content-length"], "3")
        XCTAssertEqual(r.headers["connection"], "close")
        XCTAssertEqual(r.bodyText, "ok\n")
    }

    func testMetricsKeepTheHandlersContentType() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let r = try RawClient.exchange(port: endpoint.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(r.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(r.headers["content-length"], String(Self.metricsText.utf8.count))
        XCTAssertEqual(r.bodyText, Self.metricsText)
    }

    func testHandlerStatusesPassThrough() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let missing = try RawClient.exchange(port: endpoint.port, "GET /nope HTTP/1.1\r\n\r\n")
        XCTAssertEqual(missing.statusLine, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(missing.bodyText, "not found\n")
        let unready = try RawClient.exchange(port: endpoint.port, "GET /readyz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(unready.statusLine, "HTTP/1.1 503 Service Unavailable")
    }

    func testHandlerGetsThePathWithoutQueryOrAuthority() throws {
        let log = PathLog()
        let endpoint = try makeEndpoint(log: log)
        defer { endpoint.stop() }
        let r = try RawClient.exchange(port: endpoint.port, "GET /healthz?verbose=1&x=%20 HTTP/1.1\r\n\r\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
        _ = try RawClient.exchange(port: endpoint.port, "GET http://vigil:9090/metrics?a HTTP/1.1\r\n\r\n")
        _ = try RawClient.exchange(port: endpoint.port, "GET /%2e%2e/a%20b HTTP/1.0\r\n\r\n")
        XCTAssertEqual(log.all, ["/healthz", "/metrics", "/%2e%2e/a%20b"])
    }

    func testHeadSendsHeadersOnly() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let r = try RawClient.exchange(port: endpoint.port, "HEAD /metrics HTTP/1.1\r\n\r\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(r.headers["content-length"], String(Self.metricsText.utf8.count))
        XCTAssertEqual(r.body, [])
    }

    /// A real HTTP client, as a probe or scraper would be (skipped where curl is not installed).
    func testCurlReadsTheResponses() throws {
        let curl = ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipUnless(curl != nil, "curl not installed")
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        func run(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: curl!)
            process.arguments = ["--silent", "--show-error", "--max-time", "5"] + arguments
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            XCTAssertEqual(process.terminationStatus, 0, "curl \(arguments)")
            return String(decoding: data, as: UTF8.self)
        }
        let base = "http://127.0.0.1:\(endpoint.port)"
        XCTAssertEqual(try run(["\(base)/healthz"]), "ok\n")
        XCTAssertEqual(try run(["\(base)/metrics?x=1"]), Self.metricsText)
        XCTAssertEqual(try run(["--output", "/dev/null", "--write-out", "%{http_code}", "\(base)/readyz"]), "503")
        XCTAssertEqual(try run(["--head", "--output", "/dev/null", "--write-out", "%{http_code}", "\(base)/healthz"]), "200")
        XCTAssertEqual(try run(["--output", "/dev/null", "--write-out", "%{http_code}", "--data", "x=1", "\(base)/healthz"]), "405")
    }

    func testBareLineFeedsAndLeadingEmptyLinesAreAccepted() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let r = try RawClient.exchange(port: endpoint.port, "\r\nGET /healthz HTTP/1.1\nHost: x\n\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
    }

    // MARK: Refusals

    func testOtherMethodsGet405WithoutReachingTheHandler() throws {
        let log = PathLog()
        let endpoint = try makeEndpoint(log: log)
        defer { endpoint.stop() }
        for method in ["POST", "PUT", "DELETE", "OPTIONS", "get"] {
            let r = try RawClient.exchange(
                port: endpoint.port, "\(method) /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
            XCTAssertEqual(r.statusLine, "HTTP/1.1 405 Method Not Allowed", method)
            XCTAssertEqual(r.headers["allow"], "GET, HEAD", method)
        }
        XCTAssertEqual(log.all, [])
    }

    func testMalformedRequestsGet400() throws {
        let log = PathLog()
        let endpoint = try makeEndpoint(log: log)
        defer { endpoint.stop() }
        let malformed = [
            "garbage\r\n\r\n",
            "GET\r\n\r\n",
            "GET /healthz\r\n\r\n",
            "GET  /healthz HTTP/1.1\r\n\r\n",
            "GET /healthz HTTP/1.1 \r\n\r\n",
            "GET /healthz FTP/1.1\r\n\r\n",
            "GET healthz HTTP/1.1\r\n\r\n",
            "GET /healthz HTTP/1.1\r\n folded\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nno colon\r\n\r\n",
            "GET /healthz HTTP/1.1\r\nX: a\u{0}b\r\n\r\n",
            "GET /healthz HTTP/1.1\rHost: x\r\n\r\n",
            "GET /hea\u{7F}lthz HTTP/1.1\r\n\r\n",
        ]
        for request in malformed {
            let r = try RawClient.exchange(port: endpoint.port, request)
            XCTAssertEqual(r.statusLine, "HTTP/1.1 400 Bad Request", request.debugDescription)
        }
        // Non-ASCII, truncated and binary requests: the client half-closes, so the server sees the end.
        for bytes: [UInt8] in [[0x16, 0x03, 0x01, 0x00, 0xA5, 0x01], Array("GET /healthz HTTP/1.1\r\n".utf8), [0xFF, 0xFE]] {
            let r = try RawClient.exchange(port: endpoint.port, bytes, closeWrite: true)
            XCTAssertEqual(r.statusLine, "HTTP/1.1 400 Bad Request", "\(bytes)")
        }
        XCTAssertEqual(log.all, [])
    }

    func testHTTP2RequestLineGets505() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let r = try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/2.0\r\n\r\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 505 HTTP Version Not Supported")
    }

    func testOversizedRequestsGet431() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let longLine = "GET /" + String(repeating: "a", count: 9 * 1024) + " HTTP/1.1\r\n\r\n"
        let r = try RawClient.exchange(port: endpoint.port, longLine)
        XCTAssertEqual(r.statusLine, "HTTP/1.1 431 Request Header Fields Too Large")
        let manyHeaders = "GET /healthz HTTP/1.1\r\n" + String(repeating: "X-Filler: 0123456789abcdef\r\n", count: 400) + "\r\n"
        XCTAssertEqual(try RawClient.exchange(port: endpoint.port, manyHeaders).statusLine,
                       "HTTP/1.1 431 Request Header Fields Too Large")
        // Exactly the limit is still served.
        let prefix = "GET /healthz HTTP/1.1\r\nX-Filler: "
        let exact = prefix + String(repeating: "b", count: HTTPEndpoint.requestLimit - prefix.utf8.count - 4) + "\r\n\r\n"
        XCTAssertEqual(exact.utf8.count, HTTPEndpoint.requestLimit)
        XCTAssertEqual(try RawClient.exchange(port: endpoint.port, exact).statusLine, "HTTP/1.1 200 OK")
    }

    // MARK: Clients that misbehave

    /// Waits until the endpoint has accepted `count` connections (so a client is in its hands, not in the backlog).
    func waitUntilAccepted(_ count: Int, by endpoint: HTTPEndpoint, timeout: TimeInterval = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while endpoint.acceptedConnections < count, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        return endpoint.acceptedConnections >= count
    }

    func testSilentClientHoldsTheNextOneBackAtMostTheReadTimeout() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let silent = try RawClient.connect(port: endpoint.port)
        defer { close(silent) }
        XCTAssertTrue(waitUntilAccepted(1, by: endpoint), "the server holds the silent one first")
        let start = Date()
        let r = try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\n\r\n")
        let waited = Date().timeIntervalSince(start)
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
        XCTAssertLessThan(waited, 2.6)
        // The silent client is closed without an answer.
        XCTAssertEqual(try RawClient.readAll(silent), [])
    }

    func testTricklingClientIsCutOffAtTheDeadline() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        let slow = try RawClient.connect(port: endpoint.port)
        defer { close(slow) }
        let start = Date()
        var answer: [UInt8] = []
        for byte in "GET /healthz HTTP/1.1\r\nX-Slow: ".utf8 {
            var b = byte
            if send(slow, &b, 1, Int32(MSG_NOSIGNAL)) != 1 { break }
            Thread.sleep(forTimeInterval: 0.25)
            if Date().timeIntervalSince(start) > 3 { break }
            var pending = pollfd(fd: slow, events: Int16(POLLIN), revents: 0)
            if poll(&pending, 1, 0) > 0 { break }
        }
        answer = try RawClient.readAll(slow)
        let cutOff = Date().timeIntervalSince(start)
        XCTAssertEqual(RawClient.Response(answer).statusLine, "HTTP/1.1 408 Request Timeout")
        XCTAssertLessThan(cutOff, 3.0)
        XCTAssertEqual(try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine,
                       "HTTP/1.1 200 OK")
    }

    func testRandomBytesNeverStopTheServer() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        var rng = SplitMix(seed: 42)
        let prefixes: [[UInt8]] = [[], Array("GET /".utf8), Array("GET /healthz HTTP/1.1\r\n".utf8)]
        for i in 0..<60 {
            var bytes = prefixes[i % prefixes.count]
            bytes += (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let raw = try RawClient.exchangeBytes(port: endpoint.port, bytes, closeWrite: true)
            if !raw.isEmpty {
                XCTAssertTrue(RawClient.Response(raw).statusLine.hasPrefix("HTTP/1.1 "), "\(bytes)")
            }
        }
        XCTAssertEqual(try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine,
                       "HTTP/1.1 200 OK")
    }

    func testClientThatLeavesEarlyDoesNotHurtTheServer() throws {
        let endpoint = try makeEndpoint()
        defer { endpoint.stop() }
        for _ in 0..<5 {
            let fd = try RawClient.connect(port: endpoint.port)
            let request = Array("GET /metrics HTTP/1.1\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            close(fd)
        }
        XCTAssertEqual(try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine,
                       "HTTP/1.1 200 OK")
    }

    func testAtTheCapTheOldestClientStillSendingMakesRoom() throws {
        var limits = HTTPEndpointLimits()
        limits.maxConnections = 4
        let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0, limits: limits) { _ in HTTPResponse(status: 200, body: "ok\n") }
        endpoint.start()
        defer { endpoint.stop() }
        var silent: [Int32] = []
        defer { for fd in silent { close(fd) } }
        for i in 1...4 {
            silent.append(try RawClient.connect(port: endpoint.port))
            XCTAssertTrue(waitUntilAccepted(i, by: endpoint))
        }
        let start = Date()
        XCTAssertEqual(try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        XCTAssertEqual(endpoint.evictedConnections, 1)
        XCTAssertEqual(try RawClient.readAll(silent[0]), [], "the oldest silent client was closed without an answer")
    }

    func testAtTheCapWithEveryConnectionBeingAnsweredANewOneGets503() throws {
        var limits = HTTPEndpointLimits()
        limits.maxConnections = 1
        let big = String(repeating: "x", count: 16 * 1024 * 1024)
        let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0, limits: limits) { path in
            HTTPResponse(status: 200, body: path == "/big" ? big : "ok\n")
        }
        endpoint.start()
        defer { endpoint.stop() }
        // A client that asks for a large answer and does not read it: the server is still writing to it.
        let stalled = try RawClient.connect(port: endpoint.port)
        defer { close(stalled) }
        _ = Array("GET /big HTTP/1.1\r\n\r\n".utf8).withUnsafeBytes { send(stalled, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        XCTAssertTrue(waitUntilAccepted(1, by: endpoint))
        Thread.sleep(forTimeInterval: 0.2)
        let start = Date()
        let refused = try RawClient.exchange(port: endpoint.port, "GET /healthz HTTP/1.1\r\n\r\n")
        XCTAssertEqual(refused.statusLine, "HTTP/1.1 503 Service Unavailable")
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
        XCTAssertEqual(endpoint.refusedConnections, 1)
    }

    // MARK: Lifecycle

    func testSecondEndpointOnTheSamePortThrows() throws {
        let first = try makeEndpoint()
        defer { first.stop() }
        XCTAssertThrowsError(try HTTPEndpoint(host: "127.0.0.1", port: first.port) { _ in HTTPResponse(status: 200, body: "") }) {
            XCTAssertEqual($0 as? HTTPEndpointError, .addressInUse(address: "127.0.0.1:\(first.port)"))
            XCTAssertTrue("\($0)".contains("already in use"), "\($0)")
        }
        // The first one is unaffected.
        XCTAssertEqual(try RawClient.exchange(port: first.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
    }

    func testInvalidPortAndHostThrowClearErrors() {
        XCTAssertThrowsError(try HTTPEndpoint(port: 70_000) { _ in HTTPResponse(status: 200, body: "") }) {
            XCTAssertEqual($0 as? HTTPEndpointError, .invalidPort(70_000))
        }
        XCTAssertThrowsError(try HTTPEndpoint(host: "not an address", port: 0) { _ in HTTPResponse(status: 200, body: "") }) {
            guard case .invalidHost(let host, _)? = $0 as? HTTPEndpointError else { return XCTFail("\($0)") }
            XCTAssertEqual(host, "not an address")
        }
        // An address this machine does not have.
        XCTAssertThrowsError(try HTTPEndpoint(host: "192.0.2.1", port: 0) { _ in HTTPResponse(status: 200, body: "") }) {
            guard case .system(let call, _, let code, _)? = $0 as? HTTPEndpointError else { return XCTFail("\($0)") }
            XCTAssertEqual(call, "bind")
            XCTAssertEqual(code, EADDRNOTAVAIL)
        }
    }

    func testStopRefusesNewConnectionsAndIsIdempotent() throws {
        let endpoint = try makeEndpoint()
        let port = endpoint.port
        XCTAssertEqual(try RawClient.exchange(port: port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        endpoint.stop()
        endpoint.stop()
        XCTAssertThrowsError(try RawClient.connect(port: port)) {
            XCTAssertEqual(($0 as? RawClient.Failure)?.code, ECONNREFUSED)
        }
        endpoint.start()  // after stop: does nothing
        XCTAssertThrowsError(try RawClient.connect(port: port))
    }

    func testStopIsPromptWhileAClientStalls() throws {
        let endpoint = try makeEndpoint()
        let silent = try RawClient.connect(port: endpoint.port)
        defer { close(silent) }
        XCTAssertTrue(waitUntilAccepted(1, by: endpoint), "the server is serving the stalled client")
        let start = Date()
        endpoint.stop()
        XCTAssertLessThan(Date().timeIntervalSince(start), 0.5)
    }

    func testStopWithoutStartAndDeinitCloseTheSocket() throws {
        var port = 0
        do {
            let endpoint = try HTTPEndpoint(host: "127.0.0.1", port: 0) { _ in HTTPResponse(status: 200, body: "") }
            port = endpoint.port
            endpoint.stop()
            XCTAssertThrowsError(try RawClient.connect(port: port))
        }
        do {
            let endpoint = try makeEndpoint()
            port = endpoint.port
            XCTAssertEqual(try RawClient.exchange(port: port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        }
        XCTAssertThrowsError(try RawClient.connect(port: port))
    }

    func testConcurrentStopsAllReturnAfterTheSocketCloses() throws {
        let endpoint = try makeEndpoint()
        let port = endpoint.port
        DispatchQueue.concurrentPerform(iterations: 4) { _ in endpoint.stop() }
        XCTAssertThrowsError(try RawClient.connect(port: port))
    }

    // MARK: Pure parts

    func testParserAcceptsAHeadSplitAnywhere() {
        let request = Array("GET /healthz?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: Prometheus/2.53\r\n\r\nbody".utf8)
        for split in 0...request.count {
            var parser = HTTPRequestHeadParser(limit: 8192)
            var result = parser.consume(request[..<split])
            if result == .needMore { result = parser.consume(request[split...]) }
            XCTAssertEqual(result, .complete(HTTPRequestHead(method: "GET", target: "/healthz?x=1")), "split \(split)")
        }
        var byteByByte = HTTPRequestHeadParser(limit: 8192)
        var results = request.map { byteByByte.consume([$0]) }
        XCTAssertEqual(results.filter { $0 != .needMore }.count, request.count - 67 + 1)
        XCTAssertEqual(results.removeLast(), .complete(HTTPRequestHead(method: "GET", target: "/healthz?x=1")))
    }

    func testParserRejectsGarbageBeforeTheHeadEnds() {
        var parser = HTTPRequestHeadParser(limit: 8192)
        XCTAssertEqual(parser.consume([0x16, 0x03, 0x01]), .invalid(status: 400))
        parser = HTTPRequestHeadParser(limit: 8192)
        XCTAssertEqual(parser.consume(Array("GE(".utf8)), .invalid(status: 400))
        parser = HTTPRequestHeadParser(limit: 8192)
        XCTAssertEqual(parser.consume(Array(String(repeating: "A", count: 40).utf8)), .invalid(status: 400))
        parser = HTTPRequestHeadParser(limit: 16)
        XCTAssertEqual(parser.consume(Array("GET /0123456789abcdef".utf8)), .invalid(status: 431))
        parser = HTTPRequestHeadParser(limit: 8192)
        XCTAssertEqual(parser.consume(Array("\r\n".utf8).repeated(5000)), .invalid(status: 431))
    }

    func testPathFromTarget() {
        XCTAssertEqual(HTTPEndpoint.path(fromTarget: "/"), "/")
        XCTAssertEqual(HTTPEndpoint.path(fromTarget: "/metrics?name[]=x"), "/metrics")
        XCTAssertEqual(HTTPEndpoint.path(fromTarget: "/a#frag"), "/a")
        XCTAssertEqual(HTTPEndpoint.path(fromTarget: "HTTP://host:1/readyz?q"), "/readyz")
        XCTAssertEqual(HTTPEndpoint.path(fromTarget: "https://host"), "/")
        XCTAssertEqual(HTTPEndpoint.path(fromTarget: "http://host?q=/x"), "/")
        XCTAssertNil(HTTPEndpoint.path(fromTarget: "*"))
        XCTAssertNil(HTTPEndpoint.path(fromTarget: "healthz"))
        XCTAssertNil(HTTPEndpoint.path(fromTarget: "ftp://host/x"))
    }

    func testSerializeGuardsAgainstHandlerMistakes() {
        let injected = HTTPEndpoint.serialize(
            HTTPResponse(status: 200, contentType: "text/plain\r\nSet-Cookie: x=1", body: "ok"), headOnly: false)
        XCTAssertEqual(RawClient.Response(injected).headers["content-type"], "text/plainSet-Cookie: x=1")
        XCTAssertNil(RawClient.Response(injected).headers["set-cookie"])

        let invalid = RawClient.Response(HTTPEndpoint.serialize(HTTPResponse(status: 42, body: "?"), headOnly: false))
        XCTAssertEqual(invalid.statusLine, "HTTP/1.1 500 Internal Server Error")
        XCTAssertEqual(invalid.bodyText, "handler returned invalid status 42\n")

        let noContent = RawClient.Response(HTTPEndpoint.serialize(HTTPResponse(status: 204, body: "dropped"), headOnly: false))
        XCTAssertEqual(noContent.statusLine, "HTTP/1.1 204 No Content")
        XCTAssertNil(noContent.headers["content-length"])
        XCTAssertEqual(noContent.body, [])

        XCTAssertEqual(RawClient.Response(HTTPEndpoint.serialize(HTTPResponse(status: 299, body: ""), headOnly: false)).statusLine,
                       "HTTP/1.1 299 Success")
    }
}

private extension Array {
    func repeated(_ times: Int) -> [Element] { Array((0..<times).map { _ in self }.joined()) }
}

/// A deterministic generator for the fuzz test.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A blocking TCP client on 127.0.0.1 with a 5 s receive timeout, so a hung server fails a test instead of hanging it.
enum RawClient {
    struct Failure: Error, CustomStringConvertible {
        var call: String
        var code: Int32
        var description: String { "\(call): \(String(cString: strerror(code)))" }
    }

    struct Response {
        var statusLine = ""
        /// Field names lowercased.
        var headers: [String: String] = [:]
        var body: [UInt8] = []
        var bodyText: String { String(decoding: body, as: UTF8.self) }

        init(_ raw: [UInt8]) {
            let separator = Array("\r\n\r\n".utf8)
            guard let end = raw.indices.first(where: { raw[$0...].starts(with: separator) }) else {
                statusLine = String(decoding: raw, as: UTF8.self)
                return
            }
            let lines = String(decoding: raw[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            statusLine = lines[0]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            body = Array(raw[(end + separator.count)...])
        }
    }

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(call: "socket", code: errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw Failure(call: "connect", code: code)
        }
        return fd
    }

    /// Reads until the server closes (or resets after its answer).
    static func readAll(_ fd: Int32) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { bytes += chunk[0..<n]; continue }
            if n == 0 { return bytes }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return bytes }
            throw Failure(call: "recv", code: errno)
        }
    }

    static func exchangeBytes(port: Int, _ request: [UInt8], closeWrite: Bool = false) throws -> [UInt8] {
        let fd = try connect(port: port)
        defer { close(fd) }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                // The server may answer and stop reading before the whole request is sent (431, 400).
                if errno == EPIPE || errno == ECONNRESET { break }
                throw Failure(call: "send", code: errno)
            }
            sent += n
        }
        if closeWrite { shutdown(fd, Int32(SHUT_WR)) }
        return try readAll(fd)
    }

    static func exchange(port: Int, _ request: [UInt8], closeWrite: Bool = false) throws -> Response {
        Response(try exchangeBytes(port: port, request, closeWrite: closeWrite))
    }

    static func exchange(port: Int, _ request: String) throws -> Response {
        try exchange(port: port, Array(request.utf8))
    }
}
