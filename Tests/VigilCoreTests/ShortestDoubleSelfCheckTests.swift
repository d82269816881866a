import XCTest

@testable import VigilCore

/// The net under the private runtime formatter: it is used only after it wrote exactly `description`'s text on the
/// self-check's values; otherwise doubles go through `description`, byte for byte the same.
final class ShortestDoubleSelfCheckTests: XCTestCase {
    /// On this toolchain the runtime formatter agrees, so the fast path is in use. A toolchain whose runtime drifted
    /// fails here (and in `JSONWriterDoubleTests`, which call the runtime formatter directly), not silently slower.
    func testSelfCheckPassesOnThisToolchain() {
        let check = ShortestDouble.selfCheck()
        XCTAssertNil(check.disagreement)
        XCTAssertTrue(check.usesRuntimeFormatter)
    }

    /// The contract change that already happened once (Swift 6.2: the buffer must hold ASCII zeros first) is caught:
    /// the bare runtime call on a dirty buffer disagrees with `description`.
    func testSelfCheckCatchesTheRuntimeContractChange() {
        let check = ShortestDouble.runSelfCheck { ShortestDouble.callRuntime($0, to: $1) }
        let disagreement = try? XCTUnwrap(check.disagreement)
        XCTAssertFalse(check.usesRuntimeFormatter)
        XCTAssertTrue(disagreement?.contains("swift_float64ToString wrote") ?? false, "\(disagreement ?? "nil")")
    }

    func testSelfCheckCatchesWrongLengthsAndWrongText() {
        let tooLong = ShortestDouble.runSelfCheck { _, _ in 1000 }
        XCTAssertEqual(tooLong.disagreement, "swift_float64ToString wrote 1000 bytes for 0.0")
        let offByOne = ShortestDouble.runSelfCheck { value, out in
            let n = ShortestDouble.writeDescription(value, to: out)
            return value == 1e-7 ? n - 1 : n
        }
        XCTAssertEqual(offByOne.disagreement, "swift_float64ToString wrote '1e-0' for 1e-07")
    }

    /// The fallback writes `description`'s bytes, alone and inside the writer (with stale bytes in its buffer).
    func testFallbackWritesExactlyWhatDescriptionWrites() {
        ShortestDouble.forceDescriptionForTesting = true
        defer { ShortestDouble.forceDescriptionForTesting = false }
        var random = TransactionDecoderTests.Random(seed: 0xFA11)
        let values = ShortestDouble.selfCheckValues + JSONWriterDoubleTests.doubles(&random).filter(\.isFinite)
        var w = JSONWriter(capacity: 64)
        for value in values {
            let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ShortestDouble.bufferSize) { buffer in
                buffer.initialize(repeating: 0xFF)
                let count = ShortestDouble.write(value, to: buffer.baseAddress!)
                return String(decoding: buffer[..<count], as: UTF8.self)
            }
            XCTAssertEqual(text, value.description, "bits \(String(value.bitPattern, radix: 16))")
            w.reset()
            w.string("0123456789\"\\ stale bytes 0.000000")
            w.reset()
            w.double(value)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), JSONWriterDoubleTests.referenceDouble(value), "\(value)")
        }
        // The switch really took the other path: the runtime call on this dirty buffer would have written otherwise.
        let dirty = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ShortestDouble.bufferSize) { buffer in
            buffer.initialize(repeating: 0xFF)
            let count = ShortestDouble.write(0.000123, to: buffer.baseAddress!)
            return (String(decoding: buffer[..<count], as: UTF8.self), Array(buffer[count...]))
        }
        XCTAssertEqual(dirty.0, "0.000123")
        XCTAssertTrue(dirty.1.allSatisfy { $0 == 0xFF }, "description's copy leaves the rest of the buffer alone")
    }
}
