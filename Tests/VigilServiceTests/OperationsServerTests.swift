import Foundation
import Glibc
import Logging
import VigilHTTP
import VigilService
import XCTest

/// The operational HTTP server (Hummingbird) over real sockets, with a raw client (these tests send bytes no HTTP
/// client would) and curl.
final class OperationsServerTests: XCTestCase {
    /// Paths the handler saw, to check what reached it.
    final class PathLog: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [String] = []
        func append(_ path: String) { lock.lock(); paths.append(path); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return paths }
    }

    static let metricsText = "# TYPE vigil_up gauge\nvigil_up 1\n"

    func makeServer(log: PathLog = PathLog(), host: String = "127.0.0.1", port: Int = 0) async throws -> OperationsServer {
        try await OperationsServer.start(host: host, port: port, logger: Logger(label: "test")) { path in
            log.append(path)
            switch path {
            case "/healthz": return HTTPResponse(status: 200, body: "ok\n")
            case "/readyz": return HTTPResponse(status: 503, body: "not ready: partitions unassigned\n")
            case "/metrics":
                return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: Self.metricsText)
            default: return HTTPResponse(status: 404, body: "not found\n")
            }
        }
    }

    func testAnswersWithStatusHeadersAndBody() async throws {
        let server = try await makeServer()
        XCTAssertGreaterThan(server.port, 0)
        let r = try RawClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        XCTAssertEqual(r.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(r.headers["content-type"], "text/plain; charset=utf-8")
        XCTAssertEqual(r.headers["content-length"], "3")
        XCTAssertEqual(r.bodyText, "ok\n")
        let metrics = try RawClient.exchange(port: server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(metrics.headers["content-type"], "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(metrics.bodyText, Self.metricsText)
        let missing = try RawClient.exchange(port: server.port, "GET /nope HTTP/1.1\r\n\r\n")
        XCTAssertEqual(missing.statusLine, "HTTP/1.1 404 Not Found")
        XCTAssertEqual(missing.bodyText, "not found\n")
        XCTAssertEqual(try RawClient.exchange(port: server.port, "GET /readyz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 503 Service Unavailable")
        await server.stop()
    }

    func testHandlerGetsThePathWithoutQuery() async throws {
        let log = PathLog()
        let server = try await makeServer(log: log)
        XCTAssertEqual(try RawClient.exchange(port: server.port, "GET /healthz?verbose=1&x=%20 HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        _ = try RawClient.exchange(port: server.port, "GET /metrics?a HTTP/1.1\r\n\r\n")
        XCTAssertEqual(log.all, ["/healthz", "/metrics"])
        await server.stop()
    }

    func testHeadSendsHeadersOnlyAndOtherMethodsGet405() async throws {
        let log = PathLog()
        let server = try await makeServer(log: log)
        let head = try RawClient.exchange(port: server.port, "HEAD /metrics HTTP/1.1\r\n\r\n")
        XCTAssertEqual(head.statusLine, "HTTP/1.1 200 OK")
        XCTAssertEqual(head.headers["content-length"], String(Self.metricsText.utf8.count))
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(log.all, ["/metrics"])
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            let r = try RawClient.exchange(port: server.port, "\(method) /healthz HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
            XCTAssertEqual(r.statusLine, "HTTP/1.1 405 Method Not Allowed", method)
            XCTAssertEqual(r.headers["allow"], "GET, HEAD", method)
        }
        XCTAssertEqual(log.all, ["/metrics"], "refused methods never reach the handler")
        await server.stop()
    }

    /// A real HTTP client, as a probe or scraper would be.
    func testCurlReadsTheResponses() async throws {
        let curl = ["/usr/bin/curl", "/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }
        try XCTSkipUnless(curl != nil, "curl not installed")
        let server = try await makeServer()
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
        let base = "http://127.0.0.1:\(server.port)"
        XCTAssertEqual(try run(["\(base)/healthz"]), "ok\n")
        XCTAssertEqual(try run(["\(base)/metrics?x=1"]), Self.metricsText)
        XCTAssertEqual(try run(["--output", "/dev/null", "--write-out", "%{http_code}", "\(base)/readyz"]), "503")
        XCTAssertEqual(try run(["--head", "--output", "/dev/null", "--write-out", "%{http_code}", "\(base)/healthz"]), "200")
        XCTAssertEqual(try run(["--output", "/dev/null", "--write-out", "%{http_code}", "--data", "x=1", "\(base)/healthz"]), "405")
        await server.stop()
    }

    /// A request head over 8 KiB is refused, and the server goes on serving.
    func testOversizedHeadsAreRefusedAndTheServerGoesOn() async throws {
        let server = try await makeServer()
        let big = "GET /healthz HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 9000))\r\n\r\n"
        let raw = try RawClient.exchangeBytes(port: server.port, Array(big.utf8), closeWrite: true)
        XCTAssertFalse(RawClient.Response(raw).statusLine.hasPrefix("HTTP/1.1 200"), RawClient.Response(raw).statusLine)
        XCTAssertEqual(try RawClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        await server.stop()
    }

    func testRandomBytesNeverStopTheServer() async throws {
        let server = try await makeServer()
        var state: UInt64 = 42
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let prefixes: [[UInt8]] = [[], Array("GET /".utf8), Array("GET /healthz HTTP/1.1\r\n".utf8)]
        for i in 0..<60 {
            var bytes = prefixes[i % prefixes.count]
            bytes += (0..<Int(next() % 300)).map { _ in UInt8(truncatingIfNeeded: next()) }
            let raw = try RawClient.exchangeBytes(port: server.port, bytes, closeWrite: true)
            if !raw.isEmpty { XCTAssertTrue(RawClient.Response(raw).statusLine.hasPrefix("HTTP/1.1 "), "\(bytes)") }
        }
        XCTAssertEqual(try RawClient.exchange(port: server.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        await server.stop()
    }

    func testATakenPortAndABadHostAreClearErrorsAtStart() async throws {
        let first = try await makeServer()
        do {
            _ = try await makeServer(port: first.port)
            XCTFail("a second server on the same port started")
        } catch {
            XCTAssertTrue("\(error)".contains("127.0.0.1:\(first.port): the port is already in use"), "\(error)")
        }
        XCTAssertEqual(try RawClient.exchange(port: first.port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK",
                       "the first one is unaffected")
        await first.stop()
        for (host, port, expected) in [("127.0.0.1", 70_000, "invalid port 70000"), ("192.0.2.1", 0, "192.0.2.1:0"),
                                       ("no-such-host.invalid", 0, "no-such-host.invalid:0")] {
            do {
                _ = try await makeServer(host: host, port: port)
                XCTFail("\(host):\(port) started")
            } catch {
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("cannot listen for HTTP on"), "\(error)")
            }
        }
    }

    func testStopClosesTheSocketAndIsIdempotent() async throws {
        let server = try await makeServer()
        let port = server.port
        let silent = try RawClient.connect(port: port)  // a client that never sends: stop does not wait for it
        defer { close(silent) }
        XCTAssertEqual(try RawClient.exchange(port: port, "GET /healthz HTTP/1.1\r\n\r\n").statusLine, "HTTP/1.1 200 OK")
        let started = Date()
        await server.stop()
        await server.stop()
        XCTAssertLessThan(Date().timeIntervalSince(started), 6, "within the idle timeout")
        XCTAssertThrowsError(try RawClient.connect(port: port)) {
            XCTAssertEqual(($0 as? RawClient.Failure)?.code, ECONNREFUSED)
        }
    }
}

extension OperationsServer {
    /// `start` and `stop` for synchronous tests (run on a task; the caller's thread waits).
    static func startNow(host: String, port: Int, handler: @escaping @Sendable (String) -> HTTPResponse) throws -> OperationsServer {
        final class Box: @unchecked Sendable { var result: Result<OperationsServer, any Error>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.result = .success(try await OperationsServer.start(host: host, port: port, logger: Logger(label: "test"), handler: handler)) }
            catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    func stopNow() {
        let done = DispatchSemaphore(value: 0)
        Task {
            await stop()
            done.signal()
        }
        done.wait()
    }
}
