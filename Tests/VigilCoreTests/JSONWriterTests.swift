import XCTest

@testable import VigilCore

final class JSONWriterTests: XCTestCase {
    func text(_ writer: JSONWriter) -> String {
        String(decoding: writer.bytes, as: UTF8.self)
    }

    func isValidJSON(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { JSONScanner.validate($0) } == nil
    }

    func testContractDecisionShape() {
        var w = JSONWriter()
        w.beginObject()
        w.key("schema_version"); w.int(1)
        w.key("transaction_id"); w.string("tx-000042")
        w.key("card_id"); w.string("card-7f3a9c")
        w.key("verdict"); w.string("block")
        w.key("score"); w.double(0.9731)
        w.key("model_version"); w.string("2026-11-24T02-00-00Z")
        w.key("reasons")
        w.beginArray()
        w.beginObject()
        w.key("feature"); w.string("count_1m")
        w.key("contribution"); w.double(2.41)
        w.endObject()
        w.endArray()
        w.key("event_time_ms"); w.int(1_764_000_000_000)
        w.key("decided_at_ms"); w.int(1_764_000_000_004)
        w.endObject()
        XCTAssertEqual(
            text(w),
            #"{"schema_version":1,"transaction_id":"tx-000042","card_id":"card-7f3a9c","verdict":"block","#
                + #""score":0.9731,"model_version":"2026-11-24T02-00-00Z","#
                + #""reasons":[{"feature":"count_1m","contribution":2.41}],"#
                + #""event_time_ms":1764000000000,"decided_at_ms":1764000000004}"#)
        XCTAssertTrue(isValidJSON(w.bytes))
    }

    func testCommasInNestedContainers() {
        var w = JSONWriter()
        w.beginArray()
        w.beginArray(); w.endArray()
        w.beginObject(); w.endObject()
        w.beginArray(); w.int(1); w.int(2); w.beginArray(); w.int(3); w.endArray(); w.int(4); w.endArray()
        w.beginObject()
        w.key("a"); w.beginObject(); w.key("b"); w.null(); w.key("c"); w.beginArray(); w.endArray(); w.endObject()
        w.key("d"); w.bool(true)
        w.key("e"); w.bool(false)
        w.endObject()
        w.string("x")
        w.endArray()
        XCTAssertEqual(text(w), #"[[],{},[1,2,[3],4],{"a":{"b":null,"c":[]},"d":true,"e":false},"x"]"#)
        XCTAssertTrue(isValidJSON(w.bytes))
    }

    func testStringEscapes() {
        var w = JSONWriter()
        w.string("q\"b\\s/é中😀\u{7F}")
        XCTAssertEqual(text(w), "\"q\\\"b\\\\s/é中😀\u{7F}\"")

        var controls = JSONWriter()
        controls.string(String(decoding: Array(0..<0x20), as: UTF8.self))
        let expected = (0..<0x20).map { "\\u00" + String(format2hex: $0) }.joined()
        XCTAssertEqual(text(controls), "\"" + expected + "\"")
        XCTAssertTrue(isValidJSON(controls.bytes))
    }

    func testStringsRoundTripThroughTheScanner() {
        var random = TransactionDecoderTests.Random(seed: 99)
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1F}", "\u{8}", "\u{C}",
            "é", "中", "😀", "\u{2028}", "\u{FEFF}", "\u{7F}", "{", "}", "[", "]", ":", ","]
        for round in 0..<2_000 {
            // Mostly short strings; some long enough for the chunked path (over 680 bytes).
            let count = round % 50 == 0 ? 600 + Int(random.next() % 1_500) : Int(random.next() % 40)
            let original = String((0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
            var w = JSONWriter()
            w.string(original)
            XCTAssertEqual(unescapeSingleString(w.bytes), Array(original.utf8), original.debugDescription)
        }
    }

    /// Scans a document that is one JSON string and returns its unescaped bytes.
    func unescapeSingleString(_ bytes: [UInt8]) -> [UInt8]? {
        bytes.withUnsafeBufferPointer { buffer -> [UInt8]? in
            guard let base = buffer.baseAddress, isValidJSON(bytes) else { return nil }
            var scanner = JSONScanner(base: base, count: buffer.count)
            guard let token = try? scanner.scanString(), scanner.isAtEnd else { return nil }
            var out = [UInt8](repeating: 0, count: buffer.count)
            let n = out.withUnsafeMutableBufferPointer {
                JSONScanner.unescape(base, from: token.start, to: token.end, into: $0.baseAddress!, capacity: $0.count)
            }
            return n.map { Array(out[..<$0]) }
        }
    }

    func testIntegers() {
        var w = JSONWriter()
        w.beginArray()
        for v: Int64 in [0, 1, -1, 9, 10, 1_764_000_000_000, .max, .min] { w.int(v) }
        w.endArray()
        XCTAssertEqual(text(w), "[0,1,-1,9,10,1764000000000,9223372036854775807,-9223372036854775808]")
    }

    func testDoubles() {
        let cases: [(Double, String)] = [
            (4.0, "4"), (-4.0, "-4"), (0.0, "0"), (-0.0, "-0.0"), (0.9731, "0.9731"), (2.41, "2.41"), (129.99, "129.99"),
            (0.1 + 0.2, "0.30000000000000004"), (1e-7, "1e-07"), (2592000, "2592000"),
            (9_007_199_254_740_992, "9007199254740992"), (-9_007_199_254_740_992, "-9007199254740992"),
            (.nan, "null"), (.infinity, "null"), (-.infinity, "null"),
        ]
        for (value, expected) in cases {
            var w = JSONWriter()
            w.double(value)
            XCTAssertEqual(text(w), expected, "\(value)")
        }
    }

    func testDoublesRoundTrip() {
        var random = TransactionDecoderTests.Random(seed: 5)
        var specials: [Double] = [.ulpOfOne, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
            1e300, -1e-300, 9_007_199_254_740_994, 1e16, 123456.789, 1 / 3]
        for _ in 0..<5_000 {
            specials.append(Double(bitPattern: random.next()))
            specials.append(Double(Int64(bitPattern: random.next()) >> 20) / 1000)
        }
        for value in specials where value.isFinite {
            var w = JSONWriter()
            w.double(value)
            XCTAssertTrue(isValidJSON(w.bytes), text(w))
            let parsed = w.bytes.withUnsafeBufferPointer { JSONNumber.double($0.baseAddress!, from: 0, to: $0.count) }
            XCTAssertEqual(parsed, value, text(w))
        }
    }

    func testRawFragmentsAndKeys() {
        var w = JSONWriter()
        w.beginObject()
        w.key("features")
        w.raw(Array(#"{"amount":129.99}"#.utf8))
        w.dynamicKey("dynamic \"key\"")
        w.raw("[1,2]".utf8)
        w.endObject()
        XCTAssertEqual(text(w), #"{"features":{"amount":129.99},"dynamic \"key\"":[1,2]}"#)
        XCTAssertTrue(isValidJSON(w.bytes))
    }

    func testResetKeepsCapacityAndClearsState() {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.key("a"); w.int(1)
        w.beginArray()  // left open on purpose
        let capacity = w.bytes.capacity
        XCTAssertGreaterThanOrEqual(capacity, 1024)
        w.reset()
        XCTAssertTrue(w.bytes.isEmpty)
        XCTAssertEqual(w.bytes.capacity, capacity)
        w.beginObject(); w.key("b"); w.int(2); w.endObject()
        XCTAssertEqual(text(w), #"{"b":2}"#)
    }

    func testRandomDocumentsAreValidJSON() {
        var random = TransactionDecoderTests.Random(seed: 2026)
        for _ in 0..<500 {
            var w = JSONWriter()
            writeRandomValue(&w, &random, depth: 0)
            XCTAssertTrue(isValidJSON(w.bytes), text(w))
        }
    }

    private func writeRandomValue(_ w: inout JSONWriter, _ random: inout TransactionDecoderTests.Random, depth: Int) {
        switch random.next() % (depth < 6 ? 8 : 6) {
        case 0: w.int(Int64(bitPattern: random.next()))
        case 1: w.double(Double(bitPattern: random.next()))
        case 2: w.string(String(decoding: (0..<(random.next() % 6)).map { _ in UInt8(random.next() % 128) }, as: UTF8.self))
        case 3: w.bool(random.next() % 2 == 0)
        case 4: w.null()
        case 5: w.raw("{}".utf8)
        case 6:
            w.beginArray()
            for _ in 0..<(random.next() % 4) { writeRandomValue(&w, &random, depth: depth + 1) }
            w.endArray()
        default:
            w.beginObject()
            for i in 0..<(random.next() % 4) {
                w.dynamicKey("k\(i)")
                writeRandomValue(&w, &random, depth: depth + 1)
            }
            w.endObject()
        }
    }
}

extension String {
    fileprivate init(format2hex value: Int) {
        let digits = Array("0123456789abcdef")
        self = String([digits[value >> 4], digits[value & 0xF]])
    }
}
