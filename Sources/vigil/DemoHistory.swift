import ArgumentParser
import Foundation
import VigilTraffic

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The demo's history on disk, in the formats `vigil train` and `vigil merchant-risk` read (JSON lines, one message
/// per line, exactly the Kafka payloads): the well-formed transactions, the labels the fraud team published, the
/// feature records Vigil wrote, and the ground truth of every transaction.
///
/// Each file is written by one thread: the traffic thread (transactions, truth, labels) or the feature recorder.
final class DemoHistory: @unchecked Sendable {
    let directory: String
    let transactions: DemoLineFile
    let truth: DemoLineFile
    let labels: DemoLineFile
    let features: DemoLineFile

    var transactionsPath: String { directory + "/transactions.jsonl" }
    var truthPath: String { directory + "/truth.jsonl" }
    var labelsPath: String { directory + "/labels.jsonl" }
    var featuresPath: String { directory + "/features.jsonl" }

    init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("--output-dir: cannot create \(directory): \(error)")
        }
        transactions = try DemoLineFile(path: directory + "/transactions.jsonl")
        truth = try DemoLineFile(path: directory + "/truth.jsonl")
        labels = try DemoLineFile(path: directory + "/labels.jsonl")
        features = try DemoLineFile(path: directory + "/features.jsonl")
    }

    /// Closes every file, once the traffic and the feature recorder have stopped.
    func close() throws {
        try transactions.close()
        try truth.close()
        try labels.close()
        try features.close()
    }
}

/// One JSON-lines output file, buffered.
final class DemoLineFile: @unchecked Sendable {
    private let handle: UnsafeMutablePointer<FILE>
    private let path: String
    private var isClosed = false
    private(set) var lines = 0

    init(path: String) throws {
        guard let handle = fopen(path, "w") else {
            throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        self.path = path
        setvbuf(handle, nil, _IOFBF, 1 << 20)
    }

    func write(_ line: [UInt8]) {
        line.withUnsafeBytes { write($0) }
    }

    func write(_ line: UnsafeRawBufferPointer) {
        _ = fwrite(line.baseAddress, 1, line.count, handle)
        fputc(0x0A, handle)
        lines += 1
    }

    func close() throws {
        guard !isClosed else { return }
        isClosed = true
        let failed = ferror(handle) != 0
        guard fclose(handle) == 0, !failed else { throw ValidationError("writing \(path) failed") }
    }

    deinit {
        if !isClosed { fclose(handle) }
    }
}
