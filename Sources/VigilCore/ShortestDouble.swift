/// The Swift runtime's shortest round-trip formatter, exported as `swift_float64ToString` (the stdlib declares it the
/// same way, as `_float64ToStringImpl`). `Double.description` runs the same algorithm (`_Float64ToASCII`), so the text
/// is `description`'s, written into our buffer instead of a new `String` (which allocates above 15 bytes). The
/// stdlib declares the result as `UInt64` since Swift 6.2 (`Int` before; the same register). `debug` only changes
/// how NaN is written; it is never passed NaN here.
///
/// It is a private entry point: its contract has changed once already (see `write`). So it is only used after a
/// self-check (`selfCheck()`) found it writing exactly what `description` writes; otherwise `description` is used.
@_silgen_name("swift_float64ToString")
private func _swiftFloat64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Float64, _ debug: Bool
) -> UInt64

/// Writes finite doubles exactly as `Double.description` does; without allocating while the runtime formatter
/// passes its self-check.
public enum ShortestDouble {
    /// Room the formatter needs; the longest text is 24 bytes ("-2.2250738585072014e-308").
    static let bufferSize = 32

    /// The outcome of comparing the runtime formatter with `description`.
    public struct SelfCheck: Sendable, Equatable {
        /// The first value on which they disagreed, and both texts; nil when they agreed on every value.
        public var disagreement: String?
        /// True when the runtime formatter is used; false when `description` is (slower: it may allocate).
        public var usesRuntimeFormatter: Bool { disagreement == nil }
    }

    /// Compares the runtime formatter with `description` on values that exercise every shape of output (done once,
    /// on first use of the formatter or of this). Callers log a failed check: doubles are then written through
    /// `description`, with the same text, but more slowly.
    public static func selfCheck() -> SelfCheck { checked }

    /// Decided once, lazily and thread-safely (a global's initializer runs once).
    private static let checked = runSelfCheck()
    private static let runtimeAgrees = checked.disagreement == nil

    /// Tests switch this on to exercise the fallback (`description`) path whatever the self-check said (writers made
    /// while it is on use the fallback).
    nonisolated(unsafe) static var forceDescriptionForTesting = false

    /// Whether `write` uses the runtime formatter: the self-check passed, and tests have not switched it off.
    static var usesRuntimeFormatter: Bool { runtimeAgrees && !forceDescriptionForTesting }

    /// Values whose text takes each shape the formatter can produce: integers, fractions with leading zeros
    /// (the zeros the runtime keeps in the buffer), exponents both ways, subnormals, extremes, signed zero, and
    /// values that need all 17 digits.
    static let selfCheckValues: [Double] = [
        0, -0.0, 1, -1, 2, 10, 42, 100, 1234.5678, 9_007_199_254_740_992, 123_456_789_012_345_680.0, 1e15, 1e16, 1e17,
        -1e16, 5_554_875_480_307_123,
        0.1, 0.2, 0.30000000000000004, 0.5, 2.5e-5, 1e-5, 1e-7, 0.000123, 0.00020332296739751147,
        -0.0012561678490198523, 0.23143957213091118, 1e-4, 0.001,
        .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 2.2250738585072014e-308, -2.2250738585072014e-308, 1.7976931348623157e308,
        -1.7976931348623157e308, 1e300, 1e-300, 1.5e-10, 6.02214076e23,
    ]

    /// Compares `format` (the runtime formatter as `write` calls it; tests pass others) with `description`.
    static func runSelfCheck(
        _ format: (Double, UnsafeMutablePointer<UInt8>) -> Int = { writeWithRuntime($0, to: $1) }
    ) -> SelfCheck {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bufferSize) { buffer in
            let out = buffer.baseAddress!
            for value in selfCheckValues {
                // What an earlier message left in the writer's buffer must not show through.
                buffer.initialize(repeating: 0xFF)
                let count = format(value, out)
                let expected = value.description
                let text = (1...bufferSize).contains(count)
                    ? String(decoding: UnsafeBufferPointer(start: out, count: count), as: UTF8.self) : nil
                if text != expected {
                    return SelfCheck(disagreement:
                        "swift_float64ToString wrote \(text.map { "'\($0)'" } ?? "\(count) bytes") for \(expected)")
                }
            }
            return SelfCheck(disagreement: nil)
        }
    }

    /// Writes `description` of the finite `value` at `out`, which must have room for ``bufferSize`` bytes; returns
    /// how many bytes the text has. `runtime` is ``usesRuntimeFormatter``, which a caller on the hot path reads once
    /// and keeps.
    @inline(__always)
    static func write(_ value: Double, to out: UnsafeMutablePointer<UInt8>, runtime: Bool = usesRuntimeFormatter) -> Int {
        if _fastPath(runtime) { return writeWithRuntime(value, to: out) }
        return writeDescription(value, to: out)
    }

    @inline(__always)
    static func writeWithRuntime(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        // Since Swift 6.2 the formatter expects the buffer to hold ASCII zeros, as `description`'s own buffer does
        // (`InlineArray<32, UInt8>(repeating: 0x30)`): some zeros of "0.000123" are not written, only kept. With any
        // other bytes there the text comes out wrong, so fill it the same way first.
        let zeros: UInt64 = 0x3030_3030_3030_3030
        let raw = UnsafeMutableRawPointer(out)
        raw.storeBytes(of: zeros, toByteOffset: 0, as: UInt64.self)
        raw.storeBytes(of: zeros, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: zeros, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: zeros, toByteOffset: 24, as: UInt64.self)
        return callRuntime(value, to: out)
    }

    /// The bare runtime call, whatever the buffer holds (tests use it to play the runtime's contract change).
    @inline(__always)
    static func callRuntime(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        Int(truncatingIfNeeded: _swiftFloat64ToString(out, UInt(bufferSize), value, false))
    }

    /// The fallback: `description`'s own text, copied (a `String` of more than 15 bytes is allocated).
    @inline(never)
    static func writeDescription(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var text = value.description
        return text.withUTF8 { utf8 in
            let count = min(utf8.count, bufferSize)
            out.update(from: utf8.baseAddress!, count: count)
            return count
        }
    }
}
