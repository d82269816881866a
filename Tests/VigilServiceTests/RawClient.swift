import Foundation
import Glibc

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

    /// Reads one response: up to the end of its body as its Content-Length gives it (the head only for a HEAD
    /// request), or until the server closes (or resets after its answer). HTTP/1.1 servers keep the connection open.
    static func readAll(_ fd: Int32, head: Bool = false) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                bytes += chunk[0..<n]
                if isComplete(bytes, head: head) { return bytes }
                continue
            }
            if n == 0 { return bytes }
            if errno == EINTR { continue }
            if errno == ECONNRESET { return bytes }
            throw Failure(call: "recv", code: errno)
        }
    }

    static func isComplete(_ bytes: [UInt8], head: Bool) -> Bool {
        let response = Response(bytes)
        guard !response.statusLine.isEmpty, response.statusLine.hasPrefix("HTTP/"), bytes.count > response.body.count else { return false }
        guard Array("\r\n\r\n".utf8).withUnsafeBufferPointer({ sep in bytes.indices.contains { bytes[$0...].starts(with: sep) } }) else { return false }
        if head { return true }
        guard let length = response.headers["content-length"].flatMap(Int.init) else { return false }
        return response.body.count >= length
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
        return try readAll(fd, head: request.starts(with: Array("HEAD ".utf8)))
    }

    static func exchange(port: Int, _ request: [UInt8], closeWrite: Bool = false) throws -> Response {
        Response(try exchangeBytes(port: port, request, closeWrite: closeWrite))
    }

    static func exchange(port: Int, _ request: String) throws -> Response {
        try exchange(port: port, Array(request.utf8))
    }
}
