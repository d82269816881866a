import XCTest

@testable import VigilCore

/// The writer's doubles are `Double.description`'s text written without a `String`, and whole output messages are
/// byte for byte what the writer produced when it went through `description` (the reference below keeps that method).
final class JSONWriterDoubleTests: XCTestCase {
    // MARK: The formatter against `description`

    func testShortestDoubleEqualsDescription() {
        var random = TransactionDecoderTests.Random(seed: 0x5EED)
        for value in Self.doubles(&random) where value.isFinite {
            XCTAssertEqual(Self.shortest(value), value.description, "bits \(String(value.bitPattern, radix: 16))")
        }
    }

    /// The runtime formatter leaves some zeros of "0.000123" unwritten and expects them in the buffer; the writer's
    /// buffer holds whatever the last message left there, so garbage must not show through.
    func testShortestDoubleIgnoresWhatTheBufferHeld() {
        var random = TransactionDecoderTests.Random(seed: 77)
        for value in [0.00020332296739751147, -0.0012561678490198523, 0.23143957213091118, 5554875480307123, 1e-7, 0.5]
            + (0..<2_000).map({ _ in Double(bitPattern: random.next() >> 2) }) {
            for fill: UInt8 in [0, 0x41, 0xFF, 0x2E] {
                let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ShortestDouble.bufferSize) { buffer in
                    buffer.initialize(repeating: fill)
                    let count = ShortestDouble.writeWithRuntime(value, to: buffer.baseAddress!)
                    return String(decoding: buffer[..<count], as: UTF8.self)
                }
                XCTAssertEqual(text, value.description, "fill \(fill)")
            }
        }
    }

    func testWriterDoublesEqualTheDescriptionMethod() {
        var random = TransactionDecoderTests.Random(seed: 2027)
        var w = JSONWriter(capacity: 64)
        for value in Self.doubles(&random) + [.nan, -.nan, .infinity, -.infinity, .signalingNaN] {
            // A reused writer whose spare capacity holds old text, as in the service.
            w.reset()
            w.string("0123456789\"\\ stale bytes 0.000000")
            w.reset()
            w.double(value)
            XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), Self.referenceDouble(value), "\(value)")
        }
    }

    func testDoublesInsideContainersKeepTheirCommas() {
        var random = TransactionDecoderTests.Random(seed: 11)
        let values = Self.doubles(&random).prefix(3_000)
        var w = JSONWriter()
        w.beginArray()
        for value in values { w.double(value) }
        w.endArray()
        XCTAssertEqual(
            String(decoding: w.bytes, as: UTF8.self), "[" + values.map(Self.referenceDouble).joined(separator: ",") + "]")
    }

    // MARK: Whole messages against the reference encoding

    func testMessagesEqualTheReferenceEncoding() {
        var random = TransactionDecoderTests.Random(seed: 4242)
        var encoder = OutputEncoder()
        for round in 0..<3_000 {
            let d = Self.decision(&random, plain: round % 4 != 0)
            let shadow = Self.score(&random)
            let shadowVersion = round % 2 == 0 ? "shadow-2026-11-25T02-00-00Z" : "s\"v\\\u{1}"
            XCTAssertEqual(String(decoding: encoder.decision(d), as: UTF8.self), Self.referenceDecision(d))
            XCTAssertEqual(String(decoding: encoder.featureRecord(d), as: UTF8.self), Self.referenceFeatureRecord(d))
            XCTAssertEqual(
                String(decoding: encoder.shadowDecision(d, shadow: shadow, shadowVersion: shadowVersion), as: UTF8.self),
                Self.referenceShadow(d, shadow: shadow, shadowVersion: shadowVersion))
            // The lending forms write the same bytes.
            encoder.withDecision(d) { XCTAssertEqual(Array($0), Array(Self.referenceDecision(d).utf8)) }
            encoder.withFeatureRecord(d) { XCTAssertEqual(Array($0), Array(Self.referenceFeatureRecord(d).utf8)) }
        }
    }

    /// Strings are escaped eight bytes at a time, the last one to seven bytes on their own: every short length, with
    /// a special byte at every place, as values and as keys.
    func testStringsOfEveryShortLengthEqualTheReference() {
        for length in 0...25 {
            for place in -1..<length {
                for special in ["\"", "\\", "\u{1}", "\u{1F}", "é", "\u{7F}"] {
                    var text = String(repeating: "x", count: length)
                    if place >= 0 {
                        text = String(text.prefix(place)) + special + String(text.dropFirst(place + 1))
                    }
                    var w = JSONWriter()
                    w.beginObject()
                    w.dynamicKey(text)
                    w.string(text)
                    w.endObject()
                    XCTAssertEqual(
                        String(decoding: w.bytes, as: UTF8.self), "{" + Self.quoted(text) + ":" + Self.quoted(text) + "}")
                }
            }
        }
        var w = JSONWriter()
        w.beginArray()
        w.string("distinct_merchants_1h" as StaticString)
        w.string("q\"b\\" as StaticString)
        w.string("é" as StaticString)
        w.endArray()
        XCTAssertEqual(String(decoding: w.bytes, as: UTF8.self), #"["distinct_merchants_1h","q\"b\\","é"]"#)
    }

    /// A golden message, so that a change shared by the writer and the reference would still show.
    func testContractFeatureRecordGolden() {
        var features = FeatureVector()
        features[.amount] = 129.99
        features[.count1m] = 4
        features[.sum1h] = 0.1 + 0.2
        features[.secondsSinceLast] = 2_592_000
        features[.geoVelocityKmh] = 1234.5678901234567
        features[.amountVsAvg] = 1e-7
        features[.cardNotPresent] = -0.0
        var reasons = Reasons()
        reasons.offer(slot: Feature.distinctCountries24h.rawValue, contribution: 2.41)
        let d = Decision(
            transaction: tx("tx-000042", card: "card-7f3a9c", minor: 12999, at: t0), features: features,
            score: Score(value: 0.9731, verdict: .block, reasons: reasons), modelVersion: "2026-11-24T02-00-00Z",
            decidedAtMs: t0 + 4)
        var encoder = OutputEncoder()
        XCTAssertEqual(
            String(decoding: encoder.featureRecord(d), as: UTF8.self),
            #"{"schema_version":1,"transaction_id":"tx-000042","card_id":"card-7f3a9c","event_time_ms":1764000000000,"#
                + #""model_version":"2026-11-24T02-00-00Z","score":0.9731,"verdict":"block","features":{"amount":129.99,"#
                + #""count_1m":4,"count_10m":0,"count_1h":0,"count_24h":0,"sum_1h":0.30000000000000004,"sum_24h":0,"#
                + #""distinct_merchants_1h":0,"distinct_countries_24h":0,"new_merchant_24h":0,"#
                + #""seconds_since_last":2592000,"country_changed":0,"geo_velocity_kmh":1234.5678901234567,"#
                + #""amount_vs_avg":1e-07,"card_not_present":-0.0,"high_risk_mcc":0}}"#)
        XCTAssertEqual(
            String(decoding: encoder.decision(d), as: UTF8.self),
            #"{"schema_version":1,"transaction_id":"tx-000042","card_id":"card-7f3a9c","verdict":"block","#
                + #""score":0.9731,"model_version":"2026-11-24T02-00-00Z","#
                + #""reasons":[{"feature":"distinct_countries_24h","contribution":2.41}],"#
                + #""event_time_ms":1764000000000,"decided_at_ms":1764000000004}"#)
    }

    // MARK: Values

    /// Random bit patterns, values in [0, 1), near powers of ten, subnormals, extreme exponents, integral values.
    static func doubles(_ random: inout TransactionDecoderTests.Random) -> [Double] {
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 0.5, 1 / 3, 2.0 / 3, 0.9731, 2.41, 129.99, 1e-7, 1e-5, 1e-4, 0.001,
            .ulpOfOne, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
            Double.leastNormalMagnitude.nextDown, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            9_007_199_254_740_992, 9_007_199_254_740_993, 9_007_199_254_740_994, -9_007_199_254_740_994,
            18_014_398_509_481_984, 1e16, 1e17, 1e21, 1e22, 1e23, 123456.789, 5e-324, 2.2250738585072014e-308]
        for _ in 0..<20_000 {
            values.append(Double(bitPattern: random.next()))
            values.append(Double(random.next() >> 11) / Double(1 << 53))  // [0, 1)
        }
        for exponent in -325...308 {
            let power = Double("1e\(exponent)")!
            values += [power, power.nextUp, power.nextDown, -power, power * 1.5, power * 9.999999999999999]
        }
        for exponent in -1074...1023 {
            values.append(Double(sign: .plus, exponent: exponent, significand: 1))
            values.append(Double(sign: .minus, exponent: exponent, significand: 1.0 + Double(exponent & 0xFF) / 256))
        }
        for _ in 0..<5_000 {
            // Subnormals.
            values.append(Double(bitPattern: random.next() & ((1 << 52) - 1)))
            // Integral values, also beyond 2^53 and Int64.
            values.append(Double(Int64(bitPattern: random.next()) >> (random.next() % 64)))
            values.append(Double(Int64(bitPattern: random.next()) >> 8) * 1024)
            // Money and rates as the features have them.
            values.append(Double(random.next() % 10_000_000) / 100)
            values.append(Double(random.next() % 1_000_000) / Double(1 + random.next() % 997))
        }
        return values
    }

    static func decision(_ random: inout TransactionDecoderTests.Random, plain: Bool) -> Decision {
        func text(_ prefix: String) -> String {
            guard !plain else { return prefix + String(random.next() % 1_000_000_000_000) }
            let alphabet: [Character] = ["a", "Z", "0", "-", "\"", "\\", "/", "\n", "\u{1}", "\u{1F}", "é", "中", "😀"]
            return String((0..<(1 + random.next() % 70)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] })
        }
        var features = FeatureVector()
        for i in 0..<Feature.count {
            switch random.next() % 5 {
            case 0: features.values[i] = Double(random.next() % 50)
            case 1: features.values[i] = Double(random.next() % 100_000_000) / 100
            case 2: features.values[i] = Double(random.next() >> 11) / Double(1 << 53) * 10_000
            case 3: features.values[i] = Double(bitPattern: random.next())
            default: features.values[i] = [0, -0.0, .infinity, .nan, 2_592_000, 1e-9][Int(random.next() % 6)]
            }
        }
        let transaction = tx(
            text("tx-"), card: text("card-"), minor: Int64(1 + random.next() % 1_000_000),
            at: t0 + Int64(random.next() % 1_000_000_000))
        return Decision(
            transaction: transaction, features: features, score: score(&random),
            modelVersion: plain ? "2026-11-24T02-00-00Z" : text("m"), decidedAtMs: Int64(bitPattern: random.next()) >> 1)
    }

    static func score(_ random: inout TransactionDecoderTests.Random) -> Score {
        var reasons = Reasons()
        for slot in 0..<Feature.count where random.next() % 3 == 0 {
            reasons.offer(slot: slot, contribution: Double(random.next() >> 11) / Double(1 << 53) * 5)
        }
        let value = Double(random.next() >> 11) / Double(1 << 53)
        return Score(value: value, verdict: Verdict(rawValue: UInt8(random.next() % 3))!, reasons: reasons)
    }

    // MARK: Reference encoding (the writer's method before it wrote doubles itself)

    /// The runtime formatter itself, not `write` (which would fall back to `description` if the runtime drifted, and
    /// so hide the drift from these tests).
    static func shortest(_ value: Double) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ShortestDouble.bufferSize) { buffer in
            let count = ShortestDouble.writeWithRuntime(value, to: buffer.baseAddress!)
            return String(decoding: buffer[..<count], as: UTF8.self)
        }
    }

    static func referenceDouble(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded(.towardZero) && abs(v) <= 9_007_199_254_740_992 && !(v == 0 && v.sign == .minus) {
            return String(Int64(v))
        }
        return v.description
    }

    /// Escapes per byte and keeps multi-byte UTF-8 sequences intact.
    static func quoted(_ s: String) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), byte]
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        return String(decoding: bytes, as: UTF8.self)
    }

    static func referenceDecisionFields(_ d: Decision, score: Score, modelVersion: String) -> String {
        var reasons: [String] = []
        for i in 0..<score.reasons.count {
            let reason = score.reasons[i]
            reasons.append(#"{"feature":\#(quoted(reason.feature.name)),"contribution":\#(referenceDouble(reason.contribution))}"#)
        }
        return #""schema_version":1,"transaction_id":\#(quoted(d.transaction.transactionId)),"#
            + #""card_id":\#(quoted(d.transaction.cardId)),"verdict":\#(quoted(score.verdict.name)),"#
            + #""score":\#(referenceDouble(score.value)),"model_version":\#(quoted(modelVersion)),"#
            + #""reasons":[\#(reasons.joined(separator: ","))],"#
            + #""event_time_ms":\#(d.transaction.eventTimeMs),"decided_at_ms":\#(d.decidedAtMs)"#
    }

    static func referenceDecision(_ d: Decision) -> String {
        "{" + referenceDecisionFields(d, score: d.score, modelVersion: d.modelVersion) + "}"
    }

    static func referenceShadow(_ d: Decision, shadow: Score, shadowVersion: String) -> String {
        "{" + referenceDecisionFields(d, score: shadow, modelVersion: shadowVersion)
            + #","active_verdict":\#(quoted(d.verdict.name)),"active_score":\#(referenceDouble(d.score.value)),"#
            + #""active_model_version":\#(quoted(d.modelVersion))}"#
    }

    static func referenceFeatureRecord(_ d: Decision) -> String {
        let features = FeatureCatalog.v1.features.map { "\(quoted($0.name)):\(referenceDouble(d.features[$0]))" }
        return #"{"schema_version":1,"transaction_id":\#(quoted(d.transaction.transactionId)),"#
            + #""card_id":\#(quoted(d.transaction.cardId)),"event_time_ms":\#(d.transaction.eventTimeMs),"#
            + #""model_version":\#(quoted(d.modelVersion)),"score":\#(referenceDouble(d.score.value)),"#
            + #""verdict":\#(quoted(d.verdict.name)),"features":{\#(features.joined(separator: ","))}}"#
    }
}
