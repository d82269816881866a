/// An append-only JSON writer for Vigil's output messages.
///
/// Commas are placed automatically, also inside nested objects and arrays
/// (up to ``maxDepth`` levels). Reuse one writer per worker with ``reset()``
/// to keep its buffer. The caller is responsible for the shape: a `key`
/// inside objects before each value, balanced begin/end calls.
public struct JSONWriter: Sendable {
    /// The deepest nesting of objects and arrays supported.
    public static let maxDepth = 64

    public var bytes: [UInt8]
    /// Open containers.
    private var depth = 0
    /// Bit `depth - 1` is set once that container holds an element.
    private var hasElements: UInt64 = 0
    /// A key was just written, so the next value needs no comma.
    private var afterKey = false

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the writer, keeping its buffer's capacity.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        depth = 0
        hasElements = 0
        afterKey = false
    }

    public mutating func beginObject() {
        open(JSONByte.openBrace)
    }

    public mutating func endObject() {
        close(JSONByte.closeBrace)
    }

    public mutating func beginArray() {
        open(JSONByte.openBracket)
    }

    public mutating func endArray() {
        close(JSONByte.closeBracket)
    }

    /// Writes a member name; the next call writes its value.
    public mutating func key(_ k: StaticString) {
        separate()
        if k.hasPointerRepresentation {
            appendQuoted(UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        } else {
            var text = k.description
            text.withUTF8 { appendQuoted($0) }
        }
        bytes.append(JSONByte.colon)
        afterKey = true
    }

    /// Writes a member name that is not known at compile time.
    public mutating func key(_ k: String) {
        separate()
        var text = k
        text.withUTF8 { appendQuoted($0) }
        bytes.append(JSONByte.colon)
        afterKey = true
    }

    /// Writes a string, escaping `"`, `\` and control characters (as `\u00XX`).
    public mutating func string(_ s: String) {
        beforeValue()
        var text = s
        text.withUTF8 { appendQuoted($0) }
    }

    public mutating func int(_ v: Int64) {
        beforeValue()
        appendInteger(v)
    }

    /// Writes the shortest text that reads back as `v`. Integral values within
    /// ±2^53 have no fraction (`4.0` is `4`); NaN and infinities are `null`.
    public mutating func double(_ v: Double) {
        beforeValue()
        guard v.isFinite else {
            appendLiteral("null")
            return
        }
        if v == v.rounded(.towardZero) && abs(v) <= 9_007_199_254_740_992 {
            appendInteger(Int64(v))
            return
        }
        // Swift's description is the shortest round-trip form and is valid
        // JSON for finite values ("0.9731", "1e-07", "1.5e+300").
        bytes.append(contentsOf: v.description.utf8)
    }

    public mutating func bool(_ v: Bool) {
        beforeValue()
        appendLiteral(v ? "true" : "false")
    }

    public mutating func null() {
        beforeValue()
        appendLiteral("null")
    }

    /// Writes a pre-encoded JSON value as it is.
    public mutating func raw(_ fragment: some Collection<UInt8>) {
        beforeValue()
        bytes.append(contentsOf: fragment)
    }

    // MARK: Structure

    private mutating func open(_ bracket: UInt8) {
        beforeValue()
        precondition(depth < JSONWriter.maxDepth, "JSONWriter nesting deeper than \(JSONWriter.maxDepth)")
        bytes.append(bracket)
        depth &+= 1
        hasElements &= ~(1 << UInt64(depth &- 1))
    }

    private mutating func close(_ bracket: UInt8) {
        precondition(depth > 0, "JSONWriter: end without begin")
        bytes.append(bracket)
        depth &-= 1
    }

    /// Writes the comma before an element if its container already has one.
    @inline(__always)
    private mutating func separate() {
        guard depth > 0 else { return }
        let bit: UInt64 = 1 << UInt64(depth &- 1)
        if hasElements & bit != 0 {
            bytes.append(JSONByte.comma)
        } else {
            hasElements |= bit
        }
    }

    @inline(__always)
    private mutating func beforeValue() {
        if afterKey {
            afterKey = false
        } else {
            separate()
        }
    }

    // MARK: Text

    private mutating func appendLiteral(_ literal: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    private mutating func appendInteger(_ v: Int64) {
        if v < 0 { bytes.append(JSONByte.minus) }
        var magnitude = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var n = 20
            repeat {
                n &-= 1
                digits[n] = JSONByte.zero &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[n...]))
        }
    }

    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(JSONByte.quote)
        var runStart = 0
        for i in 0..<utf8.count {
            let byte = utf8[i]
            guard byte < 0x20 || byte == JSONByte.quote || byte == JSONByte.backslash else { continue }
            if runStart < i {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            }
            bytes.append(JSONByte.backslash)
            if byte < 0x20 {
                bytes.append(JSONByte.letterU)
                bytes.append(JSONByte.zero)
                bytes.append(JSONByte.zero)
                bytes.append(JSONWriter.hexDigits[Int(byte >> 4)])
                bytes.append(JSONWriter.hexDigits[Int(byte & 0xF)])
            } else {
                bytes.append(byte)
            }
            runStart = i &+ 1
        }
        if runStart < utf8.count {
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(JSONByte.quote)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
