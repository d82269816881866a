/// The Swift runtime's shortest round-trip formatter, exported as `swift_float64ToString` (the stdlib declares it the
/// same way, as `_float64ToStringImpl`). `Double.description` runs the same algorithm (`_Float64ToASCII`), so the text
/// is `description`'s, written into our buffer instead of a new `String` (which allocates above 15 bytes). The
/// stdlib declares the result as `UInt64` since Swift 6.2 (`Int` before; the same register). `debug` only changes
/// how NaN is written; it is never passed NaN here.
@_silgen_name("swift_float64ToString")
private func _swiftFloat64ToString(
    _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Float64, _ debug: Bool
) -> UInt64

/// Writes finite doubles exactly as `Double.description` does, without allocating.
enum ShortestDouble {
    /// Room the formatter needs; the longest text is 24 bytes ("-2.2250738585072014e-308").
    static let bufferSize = 32

    /// Writes `description` of the finite `value` at `out`, which must have room for ``bufferSize`` bytes; returns
    /// how many bytes the text has.
    @inline(__always)
    static func write(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        // Since Swift 6.2 the formatter expects the buffer to hold ASCII zeros, as `description`'s own buffer does
        // (`InlineArray<32, UInt8>(repeating: 0x30)`): some zeros of "0.000123" are not written, only kept. With any
        // other bytes there the text comes out wrong, so fill it the same way first.
        let zeros: UInt64 = 0x3030_3030_3030_3030
        let raw = UnsafeMutableRawPointer(out)
        raw.storeBytes(of: zeros, toByteOffset: 0, as: UInt64.self)
        raw.storeBytes(of: zeros, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: zeros, toByteOffset: 16, as: UInt64.self)
        raw.storeBytes(of: zeros, toByteOffset: 24, as: UInt64.self)
        return Int(truncatingIfNeeded: _swiftFloat64ToString(out, UInt(bufferSize), value, false))
    }
}
