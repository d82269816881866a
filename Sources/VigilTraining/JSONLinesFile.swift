import VigilCore
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// History from a JSON-lines file: one record per line. Blank lines are skipped; a trailing `\r` is ignored.
///
/// Reads in fixed chunks, so memory does not grow with the file.
public struct JSONLinesFile: HistorySource {
    public var path: String
    /// Longer lines are delivered truncated and flagged (`RawRecord.isTruncated`).
    public var maxLineBytes: Int
    var chunkBytes = 1 << 22

    public init(path: String, maxLineBytes: Int = 64 * 1024) {
        self.path = path
        self.maxLineBytes = maxLineBytes
    }

    public func read(_ body: (RawRecord) throws -> Void, progress: (ReadProgress) -> Void) throws -> SourceSummary {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw HistoryError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        let size: Int64? = fstat(fd, &info) == 0 ? Int64(info.st_size) : nil

        let hasher = BackgroundHasher()
        var buffer = [UInt8](repeating: 0, count: chunkBytes + maxLineBytes)
        var filled = 0  // bytes in buffer[0..<filled]; buffer[0..<lineStart] already consumed
        var lineNumber = 0
        var records = 0
        var total: Int64 = 0
        var skippingLongLine = false
        func report(_ done: Bool) {
            progress(ReadProgress(source: "file:\(path)", records: records, bytes: total, expectedBytes: size, finished: done))
        }

        func deliver(_ base: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int, truncated: Bool) throws {
            var stop = end
            if !truncated, stop > start, base[stop - 1] == UInt8(ascii: "\r") { stop -= 1 }
            var first = start
            while first < stop, base[first] == 0x20 || base[first] == 0x09 { first += 1 }
            guard first < stop else { return }
            records += 1
            try body(RawRecord(
                bytes: UnsafeRawBufferPointer(start: base + start, count: stop - start), location: .line(lineNumber),
                isTruncated: truncated))
            if records & 0x3FFF == 0 { report(false) }
        }

        while true {
            let space = buffer.count - filled
            let got = buffer.withUnsafeMutableBytes { raw in
                Glibc_read(fd, raw.baseAddress! + filled, space)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw HistoryError.readFailed(path: path, reason: String(cString: strerror(errno)))
            }
            let atEOF = got == 0
            if got > 0 {
                buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[filled..<filled + got])) }
                total += Int64(got)
                filled += got
            }
            var consumed = 0
            try buffer.withUnsafeMutableBufferPointer { b in
                let base = b.baseAddress!
                var start = 0
                while start < filled {
                    guard let nl = memchr(base + start, 0x0A, filled - start) else { break }
                    let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                    lineNumber += 1
                    if skippingLongLine {
                        skippingLongLine = false
                    } else {
                        try deliver(base, start, end, truncated: false)
                    }
                    start = end + 1
                }
                consumed = start
                let rest = filled - start
                if atEOF, rest > 0, !skippingLongLine {
                    lineNumber += 1
                    try deliver(base, start, filled, truncated: false)
                    consumed = filled
                } else if rest > maxLineBytes, !skippingLongLine {
                    lineNumber += 1
                    try deliver(base, start, start + maxLineBytes, truncated: true)
                    lineNumber -= 1  // counted again when its newline arrives
                    skippingLongLine = true
                    consumed = filled
                } else if skippingLongLine {
                    consumed = filled
                }
            }
            if consumed > 0 {
                let rest = filled - consumed
                if rest > 0 {
                    buffer.withUnsafeMutableBytes { raw in
                        _ = memmove(raw.baseAddress!, raw.baseAddress! + consumed, rest)
                    }
                }
                filled = rest
            }
            if atEOF { break }
        }
        report(true)
        return SourceSummary(
            description: "file:\(path)", records: records, bytes: total, sha256: hasher.finalize())
    }
}

/// SHA-256 on a thread of its own, so that fingerprinting the file overlaps parsing it (about a third of the
/// reading time otherwise). At most four chunks wait, which bounds the memory it takes.
final class BackgroundHasher: @unchecked Sendable {
    // @unchecked Sendable is safe: `hasher` is only touched on `queue`.
    private var hasher = SHA256()
    private let queue = DispatchQueue(label: "vigil.train.sha256")
    private let slots = DispatchSemaphore(value: 4)

    func update(_ bytes: UnsafeRawBufferPointer) {
        let copy = [UInt8](bytes)
        slots.wait()
        queue.async {
            copy.withUnsafeBytes { self.hasher.update($0) }
            self.slots.signal()
        }
    }

    /// Waits for the queued chunks; the digest in hex.
    func finalize() -> String {
        queue.sync {
            let done = hasher
            return SHA256.hexString(done.finalize())
        }
    }
}

@inline(__always)
private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// Why history could not be read at all (as opposed to single bad records, which are counted and skipped).
public enum HistoryError: Error, Equatable, Sendable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case kafka(String)
    case stalled(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
        case .readFailed(let path, let reason): "reading \(path) failed: \(reason)"
        case .kafka(let what): what
        case .stalled(let what): what
        }
    }
}
