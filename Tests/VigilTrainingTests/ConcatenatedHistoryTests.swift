import Foundation
import XCTest
@testable import VigilTraining

final class ConcatenatedHistoryTests: XCTestCase {
    func testPartsAreReadInOrderAndSummarizedTogether() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("concat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.jsonl").path, b = dir.appendingPathComponent("b.jsonl").path
        try Data("{\"n\":1}\n{\"n\":2}\n".utf8).write(to: URL(fileURLWithPath: a))
        try Data("{\"n\":3}\n".utf8).write(to: URL(fileURLWithPath: b))
        var seen: [String] = []
        let summary = try ConcatenatedHistory([JSONLinesFile(path: a), JSONLinesFile(path: b)])
            .read({ seen.append(String(decoding: $0.bytes, as: UTF8.self)) }, progress: { _ in })
        XCTAssertEqual(seen, ["{\"n\":1}", "{\"n\":2}", "{\"n\":3}"])
        XCTAssertEqual(summary.records, 3)
        XCTAssertEqual(summary.description, "file:\(a) + file:\(b)")
        let reversed = try ConcatenatedHistory([JSONLinesFile(path: b), JSONLinesFile(path: a)]).read({ _ in }, progress: { _ in })
        XCTAssertNotEqual(summary.sha256, reversed.sha256, "the fingerprint covers the order")
        // One part is that part, unchanged.
        let single = try ConcatenatedHistory([JSONLinesFile(path: a)]).read({ _ in }, progress: { _ in })
        XCTAssertEqual(single, try JSONLinesFile(path: a).read({ _ in }, progress: { _ in }))
    }
}
