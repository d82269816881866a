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
    /// Doubles go through the runtime formatter (it passed its self-check); decided once per writer, so the hot path
    /// reads a field, not a global.
    private let runtimeFormatter = ShortestDouble.usesRuntimeFormatter

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
        if k.hasPointerRepresentation {
            appendKey(UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        } else {
            var text = k.description
            text.withUTF8 { appendKey($0) }
        }
    }

    /// Writes a member name that is not known at compile time.
    public mutating func dynamicKey(_ k: String) {
        var text = k
        text.withUTF8 { appendKey($0) }
    }

    /// Writes a string, escaping `"`, `\` and control characters (as `\u00XX`).
    public mutating func string(_ s: String) {
        let comma = takeComma()
        var text = s
        text.withUTF8 { appendQuoted($0, comma: comma, colon: false) }
    }

    /// Writes a string known at compile time (a catalog name), without making a `String` of it.
    public mutating func string(_ s: StaticString) {
        guard s.hasPointerRepresentation else {
            string(s.description)
            return
        }
        let comma = takeComma()
        appendQuoted(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount), comma: comma, colon: false)
    }

    public mutating func int(_ v: Int64) {
        let comma = takeComma()
        appendToken(maxBytes: 21) { out in
            var n = 0
            if comma { out[0] = JSONByte.comma; n = 1 }
            return n &+ JSONWriter.writeInteger(v, to: out + n)
        }
    }

    /// Writes the shortest text that reads back as `v`. Integral values within
    /// ±2^53 have no fraction (`4.0` is `4`); NaN and infinities are `null`.
    public mutating func double(_ v: Double) {
        guard v.isFinite else {
            null()
            return
        }
        // -0.0 keeps its sign through the description path ("-0.0"), so it reads back as itself.
        if v == v.rounded(.towardZero) && abs(v) <= 9_007_199_254_740_992 && !(v == 0 && v.sign == .minus) {
            int(Int64(v))
            return
        }
        let comma = takeComma()
        let runtime = runtimeFormatter
        // `description`'s text, the shortest round-trip form, which is valid
        // JSON for finite values ("0.9731", "1e-07", "1.5e+300").
        appendToken(maxBytes: 1 &+ ShortestDouble.bufferSize) { out in
            var n = 0
            if comma { out[0] = JSONByte.comma; n = 1 }
            return n &+ ShortestDouble.write(v, to: out + n, runtime: runtime)
        }
    }

    public mutating func bool(_ v: Bool) {
        appendLiteral(v ? "true" : "false")
    }

    public mutating func null() {
        appendLiteral("null")
    }

    /// Writes a pre-encoded JSON value as it is.
    public mutating func raw(_ fragment: some Collection<UInt8>) {
        if takeComma() { bytes.append(JSONByte.comma) }
        bytes.append(contentsOf: fragment)
    }

    // MARK: Structure

    private mutating func open(_ bracket: UInt8) {
        let comma = takeComma()
        precondition(depth < JSONWriter.maxDepth, "JSONWriter nesting deeper than \(JSONWriter.maxDepth)")
        appendToken(maxBytes: 2) { out in
            var n = 0
            if comma { out[0] = JSONByte.comma; n = 1 }
            out[n] = bracket
            return n &+ 1
        }
        depth &+= 1
        hasElements &= ~(1 << UInt64(depth &- 1))
    }

    private mutating func close(_ bracket: UInt8) {
        precondition(depth > 0, "JSONWriter: end without begin")
        bytes.append(bracket)
        depth &-= 1
    }

    /// Whether the next element needs a comma before it; marks the current
    /// container as having an element.
    @inline(__always)
    private mutating func takeComma() -> Bool {
        if afterKey {
            afterKey = false
            return false
        }
        guard depth > 0 else { return false }
        let bit: UInt64 = 1 << UInt64(depth &- 1)
        if hasElements & bit != 0 { return true }
        hasElements |= bit
        return false
    }

    // MARK: Text

    /// Appends the bytes `body` writes (at most `maxBytes`) straight into the buffer's spare capacity, growing it
    /// first if needed; `body` returns how many it wrote.
    @inline(__always)
    private mutating func appendToken(maxBytes: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        bytes.append(addingCapacity: maxBytes) { span in
            span.withUnsafeMutableBufferPointer { room, written in
                written = body(room.baseAddress!)
            }
        }
    }

    private mutating func appendLiteral(_ literal: StaticString) {
        let comma = takeComma()
        appendToken(maxBytes: 6) { out in
            var n = 0
            if comma { out[0] = JSONByte.comma; n = 1 }
            out.advanced(by: n).update(from: literal.utf8Start, count: literal.utf8CodeUnitCount)
            return n &+ literal.utf8CodeUnitCount
        }
    }

    private mutating func appendKey(_ utf8: UnsafeBufferPointer<UInt8>) {
        // A key is an element of its object; the value after it is not.
        afterKey = false
        let comma = takeComma()
        appendQuoted(utf8, comma: comma, colon: true)
        afterKey = true
    }

    /// Writes digits of `v` at `out`; returns how many bytes (at most 20).
    @inline(__always)
    private static func writeInteger(_ v: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var magnitude = v.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, filled from the end
        return withUnsafeMutableBytes(of: &digits) { scratch in
            var i = 24
            repeat {
                i &-= 1
                scratch[i] = JSONByte.zero &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            var n = 0
            if v < 0 { out[0] = JSONByte.minus; n = 1 }
            let count = 24 &- i
            out.advanced(by: n).update(from: scratch.baseAddress!.assumingMemoryBound(to: UInt8.self) + i, count: count)
            return n &+ count
        }
    }

    /// Writes `"text"` (escaped), preceded by a comma and followed by a colon if asked.
    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>, comma: Bool, colon: Bool) {
        // Worst case: every byte becomes \u00XX.
        let maxBytes = utf8.count &* 6 &+ 12
        guard maxBytes <= 4096 else {
            appendLongQuoted(utf8, comma: comma, colon: colon)
            return
        }
        appendToken(maxBytes: maxBytes) { out in
            var n = 0
            if comma { out[n] = JSONByte.comma; n &+= 1 }
            out[n] = JSONByte.quote
            n &+= 1
            n = JSONWriter.writeEscaped(utf8, to: out, at: n)
            out[n] = JSONByte.quote
            n &+= 1
            if colon { out[n] = JSONByte.colon; n &+= 1 }
            return n
        }
    }

    /// The same for long strings, in chunks, without a large scratch buffer.
    private mutating func appendLongQuoted(_ utf8: UnsafeBufferPointer<UInt8>, comma: Bool, colon: Bool) {
        if comma { bytes.append(JSONByte.comma) }
        bytes.append(JSONByte.quote)
        var start = 0
        while start < utf8.count {
            let chunk = UnsafeBufferPointer(rebasing: utf8[start..<min(start &+ 512, utf8.count)])
            appendToken(maxBytes: chunk.count &* 6 &+ 8) { out in JSONWriter.writeEscaped(chunk, to: out, at: 0) }
            start &+= chunk.count
        }
        bytes.append(JSONByte.quote)
        if colon { bytes.append(JSONByte.colon) }
    }

    /// Writes the escaped form of `utf8` at `out + n`; returns the new `n`.
    /// `out` must have room for 6 bytes per input byte after `n`, and 2 more.
    @inline(__always)
    private static func writeEscaped(
        _ utf8: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>, at n: Int
    ) -> Int {
        guard let input = utf8.baseAddress else { return n }
        let raw = UnsafeRawPointer(input)
        let count = utf8.count
        var n = n
        var i = 0
        while i < count {
            // Copy eight plain bytes at a time. A word is stored whole even when
            // it holds a special byte or ends past the input; what follows is
            // overwritten later or not counted. Room: at least one input byte
            // remains, so 6 + 2 output bytes do.
            let remaining = count &- i
            let word = remaining >= 8
                ? raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                : tailWord(input + i, count: remaining)
            UnsafeMutableRawPointer(out + n).storeBytes(of: word, as: UInt64.self)
            let special = JSONScanner.specialStringBytes(word)
            if special == 0 {
                let step = min(remaining, 8)
                n &+= step
                i &+= step
                continue
            }
            let plain = special.trailingZeroBitCount &>> 3
            n &+= plain
            i &+= plain
            let byte = input[i]
            i &+= 1
            if byte >= 0x20 && byte != JSONByte.quote && byte != JSONByte.backslash {
                out[n] = byte
                n &+= 1
            } else if byte < 0x20 {
                out[n] = JSONByte.backslash
                out[n &+ 1] = JSONByte.letterU
                out[n &+ 2] = JSONByte.zero
                out[n &+ 3] = JSONByte.zero
                out[n &+ 4] = hexDigit(byte >> 4)
                out[n &+ 5] = hexDigit(byte & 0xF)
                n &+= 6
            } else {
                out[n] = JSONByte.backslash
                out[n &+ 1] = byte
                n &+= 2
            }
        }
        return n
    }

    /// The last `count` (1 to 7) bytes of a string in the low bytes of a word
    /// (the first byte lowest), above them plain `a`s that are never special.
    /// Two overlapping loads inside the string, not a copy through memory,
    /// which would stall the load of the word.
    @inline(__always)
    private static func tailWord(_ bytes: UnsafePointer<UInt8>, count: Int) -> UInt64 {
        let raw = UnsafeRawPointer(bytes)
        let word: UInt64
        if count >= 4 {
            let low = UInt64(raw.loadUnaligned(as: UInt32.self))
            let high = UInt64(raw.loadUnaligned(fromByteOffset: count &- 4, as: UInt32.self))
            word = low | high &<< ((count &- 4) &* 8)
        } else if count >= 2 {
            let low = UInt64(raw.loadUnaligned(as: UInt16.self))
            let high = UInt64(raw.loadUnaligned(fromByteOffset: count &- 2, as: UInt16.self))
            word = low | high &<< ((count &- 2) &* 8)
        } else {
            word = UInt64(bytes[0])
        }
        let plain: UInt64 = 0x6161_6161_6161_6161
        return word | plain &<< (count &* 8)
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? JSONByte.zero &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
    }
}
