import Foundation
import XCTest

@testable import VigilCore

final class TransactionDecoderTests: XCTestCase {
    // MARK: Helpers

    static let exampleText = """
        {"schema_version": 1, "transaction_id": "tx-000042", "card_id": "card-7f3a9c",
         "amount_minor": 12999, "currency": "EUR", "merchant_id": "m-1187",
         "mcc": "5411", "country": "DE", "channel": "ecom",
         "lat": 52.52, "lon": 13.405, "event_time_ms": 1764000000000}
        """
    static let exampleKey = "card-7f3a9c"

    /// The example's members in order, as raw JSON values.
    static let exampleFields: [(String, String)] = [
        ("schema_version", "1"), ("transaction_id", #""tx-000042""#), ("card_id", #""card-7f3a9c""#),
        ("amount_minor", "12999"), ("currency", #""EUR""#), ("merchant_id", #""m-1187""#),
        ("mcc", #""5411""#), ("country", #""DE""#), ("channel", #""ecom""#),
        ("lat", "52.52"), ("lon", "13.405"), ("event_time_ms", "1764000000000"),
    ]

    /// The example with some members' raw values replaced (nil removes the member),
    /// plus `extra` members appended verbatim.
    static func message(_ overrides: [String: String?] = [:], extra: String = "") -> String {
        var members: [String] = []
        for (name, value) in exampleFields {
            let replaced: String?? = overrides[name]
            switch replaced {
            case .none: members.append("\"\(name)\":\(value)")
            case .some(.none): break
            case .some(.some(let v)): members.append("\"\(name)\":\(v)")
            }
        }
        if !extra.isEmpty { members.append(extra) }
        return "{" + members.joined(separator: ",") + "}"
    }

    static func decode(_ text: String, key: String? = exampleKey) -> Result<Transaction, RejectReason> {
        TransactionDecoder.decode(value: Array(text.utf8), key: key.map { Array($0.utf8) })
    }

    /// Decodes from a buffer of exactly the message's size, so that the
    /// address sanitizer (`swift test --sanitize=address`) sees any read past its end.
    static func decodeBytes(_ bytes: [UInt8], key: String? = exampleKey) -> Result<Transaction, RejectReason> {
        let value = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { value.deallocate() }
        value.copyBytes(from: bytes)
        let keyBytes = key.map { Array($0.utf8) }
        guard let keyBytes else { return TransactionDecoder.decode(value: UnsafeRawBufferPointer(value), key: nil) }
        return keyBytes.withUnsafeBytes { TransactionDecoder.decode(value: UnsafeRawBufferPointer(value), key: $0) }
    }

    func assertRejected(
        _ text: String, _ code: String, key: String? = exampleKey, file: StaticString = #filePath, line: UInt = #line
    ) {
        assertRejected(bytes: Array(text.utf8), code, key: key, file: file, line: line)
    }

    func assertRejected(
        bytes: [UInt8], _ code: String, key: String? = exampleKey, file: StaticString = #filePath, line: UInt = #line
    ) {
        switch Self.decodeBytes(bytes, key: key) {
        case .success(let t):
            XCTFail("accepted, expected \(code): \(t)", file: file, line: line)
        case .failure(let reason):
            XCTAssertEqual(reason.code, code, String(decoding: bytes.prefix(300), as: UTF8.self), file: file, line: line)
        }
    }

    @discardableResult
    func assertAccepted(
        _ text: String, key: String? = exampleKey, file: StaticString = #filePath, line: UInt = #line
    ) -> Transaction? {
        switch Self.decode(text, key: key) {
        case .success(let t):
            return t
        case .failure(let reason):
            XCTFail("rejected with \(reason.code): \(text.prefix(300))", file: file, line: line)
            return nil
        }
    }

    // MARK: The contract's example

    func testContractExampleDecodesToExactValues() throws {
        let t = try XCTUnwrap(assertAccepted(Self.exampleText))
        XCTAssertEqual(t.transactionId, "tx-000042")
        XCTAssertEqual(t.cardId, "card-7f3a9c")
        XCTAssertEqual(t.amountMinor, 12999)
        XCTAssertEqual(t.currency.code, "EUR")
        XCTAssertEqual(t.currency.minorUnitExponent, 2)
        XCTAssertEqual(t.merchantId, "m-1187")
        XCTAssertEqual(t.mcc, 5411)
        XCTAssertEqual(t.country.code, "DE")
        XCTAssertEqual(t.channel, .ecom)
        XCTAssertEqual(t.location, GeoPoint(lat: 52.52, lon: 13.405))
        XCTAssertEqual(t.eventTimeMs, 1_764_000_000_000)
        XCTAssertEqual(
            t,
            Transaction(
                transactionId: "tx-000042", cardId: "card-7f3a9c", amountMinor: 12999, currency: CurrencyCode("EUR")!,
                merchantId: "m-1187", mcc: 5411, country: CountryCode("DE")!, channel: .ecom,
                location: GeoPoint(lat: 52.52, lon: 13.405), eventTimeMs: 1_764_000_000_000))
    }

    func testBuiltMessageMatchesExample() {
        XCTAssertEqual(Self.decode(Self.message()), Self.decode(Self.exampleText))
    }

    func testPointerAndArrayEntryPointsAgree() {
        let value = Array(Self.exampleText.utf8)
        let key = Array(Self.exampleKey.utf8)
        let viaPointer = value.withUnsafeBytes { v in
            key.withUnsafeBytes { k in TransactionDecoder.decode(value: v, key: k) }
        }
        XCTAssertEqual(viaPointer, TransactionDecoder.decode(value: value, key: key))
        let noKey = value.withUnsafeBytes { TransactionDecoder.decode(value: $0, key: nil) }
        XCTAssertEqual(noKey, .failure(.keyMismatch))
    }

    func testEveryChannelAndNoLocation() {
        for (text, channel) in [("pos", Channel.pos), ("ecom", .ecom), ("atm", .atm)] {
            let t = assertAccepted(Self.message(["channel": "\"\(text)\"", "lat": nil, "lon": nil]))
            XCTAssertEqual(t?.channel, channel)
            XCTAssertNil(t?.location)
        }
    }

    func testWhitespaceEverywhere() {
        let text = " \t\r\n{ \"schema_version\" :\t1 ,\r\n\"transaction_id\"\n:\n\"t\" , \"card_id\" : \"card-7f3a9c\" ,"
            + " \"amount_minor\" : 5 , \"currency\" : \"JPY\" , \"merchant_id\" : \"m\" , \"mcc\" : \"0742\" ,"
            + " \"country\" : \"JP\" , \"channel\" : \"pos\" , \"event_time_ms\" : 0 } \n\t "
        let t = assertAccepted(text)
        XCTAssertEqual(t?.mcc, 742)
        XCTAssertEqual(t?.currency.minorUnitExponent, 0)
        XCTAssertEqual(t?.eventTimeMs, 0)
    }

    func testFieldOrderDoesNotMatter() {
        let reversed = "{" + Self.exampleFields.reversed().map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        XCTAssertEqual(Self.decode(reversed), Self.decode(Self.exampleText))
    }

    // MARK: Size

    func testSizeLimit() {
        let base = Self.message(extra: #""pad":"""#)
        let padding = TransactionDecoder.maxMessageBytes - base.utf8.count
        let exact = Self.message(extra: "\"pad\":\"" + String(repeating: "x", count: padding) + "\"")
        XCTAssertEqual(exact.utf8.count, 16384)
        assertAccepted(exact)
        let over = Self.message(extra: "\"pad\":\"" + String(repeating: "x", count: padding + 1) + "\"")
        assertRejected(over, "too_large")
    }

    func testSizeIsCheckedBeforeAnythingElse() {
        assertRejected(bytes: [UInt8](repeating: 0xFF, count: 16385), "too_large")
        assertRejected(bytes: [UInt8](repeating: UInt8(ascii: "["), count: 100_000), "too_large")
    }

    // MARK: UTF-8

    func testInvalidUTF8() {
        let cases: [[UInt8]] = [
            [0xFF],  // never valid
            [0xC0, 0x80],  // overlong NUL
            [0xE0, 0x80, 0x80],  // overlong
            [0xED, 0xA0, 0x80],  // encoded surrogate U+D800
            [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            [0xF5, 0x80, 0x80, 0x80],
            [0x80],  // lone continuation
            [0xC3],  // truncated
            [0xE2, 0x82],  // truncated
        ]
        for bad in cases {
            // Inside an identifier, inside an unknown field's value, in a key, and outside strings.
            let id = Array(#"{"schema_version":1,"transaction_id":"tx"#.utf8) + bad + Array(#"","card_id":"c"}"#.utf8)
            assertRejected(bytes: id, "invalid_utf8")
            let unknownKey = Array(#"{""#.utf8) + bad + Array(#"":1}"#.utf8)
            assertRejected(bytes: unknownKey, "invalid_utf8")
            assertRejected(bytes: Array(#"{"a":"#.utf8) + bad + Array("}".utf8), "invalid_utf8")
            // UTF-8 is checked over the whole message before the syntax.
            assertRejected(bytes: Array("{,,,".utf8) + bad, "invalid_utf8")
        }
    }

    func testMultibyteUTF8IsAccepted() {
        let t = assertAccepted(Self.message(["transaction_id": "\"tx-é-中-😀\"", "merchant_id": "\"Müller\""]))
        XCTAssertEqual(t?.transactionId, "tx-é-中-😀")
        XCTAssertEqual(t?.merchantId, "Müller")
    }

    // MARK: JSON syntax

    func testInvalidJSON() {
        let valid = Self.message()
        let cases = [
            "", " ", "\n\t", "{", "}", "{\"a\"", "{\"a\":}", "{\"a\" 1}", "{'a':1}", "{a:1}", "{\"a\":1,}", "{,}",
            "{\"a\":1 \"b\":2}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}", "{\"a\":{\"b\"}}", "{\"a\":{1:2}}",
            "{\"a\":tru}", "{\"a\":nul}", "{\"a\":True}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}",
            "{\"a\":undefined}", "{\"a\":012}", "{\"a\":-012}", "{\"a\":00}", "{\"a\":1.}", "{\"a\":.5}",
            "{\"a\":+1}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":-}", "{\"a\":0x10}", "{\"a\":1.5.3}",
            "{\"a\":\"x\ny\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\u{0}\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}",
            "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\uD800\"}", "{\"a\":\"\\uDC00\"}", "{\"a\":\"\\uD800\\u0041\"}",
            "{\"a\":\"\\uD800x\"}", "{\"a\":\"\\uDBFF\\uDBFF\"}", "{\"a\":\"unterminated}", "{\"a\":\"\\\"}",
            "{\"a\":1}}", "{\"a\":1}{\"b\":2}", "{\"a\":1} x", "{\"a\":1}\u{0}", "\u{FEFF}{\"a\":1}",
            "{\"a\":1 /* c */}", "// c\n{\"a\":1}", "{\"a\":1}\u{0B}", "{\"a\":1}\u{A0}",
            valid + ",", valid + "]", "[" + valid, valid + valid,
        ]
        for text in cases {
            assertRejected(text, "invalid_json")
        }
    }

    func testSyntaxErrorsBeatFieldErrors() {
        // Syntax is checked over the whole message first, also after all fields were seen.
        assertRejected("{\"schema_version\":7, \"x\":[1,2,}", "invalid_json")
        assertRejected("{\"card_id\":5, \"card_id\":6, \"x\":tru}", "invalid_json")
        assertRejected(Self.message(["card_id": nil]) + " x", "invalid_json")
    }

    func testNotAnObject() {
        for text in ["[]", "[1,{\"a\":2}]", "\"text\"", "1", "-1.5e3", "true", "false", "null", " [ ] ", "\"{}\""] {
            assertRejected(text, "not_an_object")
        }
        // A non-object that is not valid JSON either is invalid_json.
        for text in ["[", "[1,]", "\"x", "1 2", "nul"] {
            assertRejected(text, "invalid_json")
        }
    }

    func testNestingLimit() {
        func nested(_ levels: Int) -> String {
            String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
        }
        // The message's object is level 1: an unknown field may nest 31 more levels.
        assertAccepted(Self.message(extra: "\"deep\":" + nested(31)))
        assertRejected(Self.message(extra: "\"deep\":" + nested(32)), "nesting_too_deep")
        let objects31 = String(repeating: "{\"a\":", count: 30) + "{}" + String(repeating: "}", count: 30)
        assertAccepted(Self.message(extra: "\"deep\":" + objects31))
        let objects32 = String(repeating: "{\"a\":", count: 31) + "{}" + String(repeating: "}", count: 31)
        assertRejected(Self.message(extra: "\"deep\":" + objects32), "nesting_too_deep")
        // Top-level arrays count the same way.
        assertRejected(nested(32), "not_an_object")
        assertRejected(nested(33), "nesting_too_deep")
    }

    func testTenThousandLevelsAreRejectedWithoutStackOverflow() {
        // 10,000 closed levels are 20,000 bytes: over the size limit for a message,
        // so the scanner is tested on its own as well.
        let arrays = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        assertRejected(arrays, "too_large")
        let objects = String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        for text in [arrays, objects, String(repeating: "[", count: 100_000)] {
            let failure = Array(text.utf8).withUnsafeBytes { JSONScanner.validate($0) }
            XCTAssertEqual(failure, .nestingTooDeep)
        }
        // Within the size limit: 10,000 openers, alone or inside an unknown field.
        assertRejected(String(repeating: "[", count: 10_000), "nesting_too_deep")
        assertRejected(String(repeating: "{\"a\":", count: 2_000), "nesting_too_deep")
        assertRejected(String(repeating: "{\"a\":[", count: 1_500), "nesting_too_deep")
        assertRejected(Self.message(extra: "\"deep\":" + String(repeating: "[", count: 10_000)), "nesting_too_deep")
        // Brackets inside a string are just text.
        assertAccepted(Self.message(extra: "\"s\":\"" + String(repeating: "[{", count: 4_000) + "\""))
    }

    // MARK: Unknown fields

    func testUnknownFieldsOfEveryTypeAreIgnored() {
        let extras = [
            "\"u_string\":\"x\"", "\"u_empty\":\"\"", "\"u_int\":42", "\"u_neg\":-7", "\"u_float\":3.25",
            "\"u_exp\":-1.5E+300", "\"u_huge\":123456789012345678901234567890", "\"u_true\":true",
            "\"u_false\":false", "\"u_null\":null", "\"u_object\":{\"a\":[1,{\"b\":null}],\"c\":{}}",
            "\"u_array\":[1,\"two\",3.0,true,false,null,[],{}]", "\"u_empty_object\":{}", "\"u_empty_array\":[]",
            "\"\":1", "\"ünïcödé\":\"ok\"", "\"Card_ID\":\"other\"", "\"card_id \":\"other\"", "\"card\":1",
            "\"schema_version_2\":{}", "\"u_escaped\\n\\u0041\":\"\\uD83D\\uDE00\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
            "\"mccc\":[]", "\"la\":1", "\"lat_\":\"x\"",
        ]
        let text = Self.message(extra: extras.joined(separator: ","))
        XCTAssertEqual(Self.decode(text), Self.decode(Self.exampleText))
        // Also when unknown fields come first and between the known ones.
        let interleaved = "{" + extras.joined(separator: ",") + ","
            + Self.exampleFields.map { "\"\($0.0)\":\($0.1),\"x_\($0.0)\":[{}]" }.joined(separator: ",") + "}"
        XCTAssertEqual(Self.decode(interleaved), Self.decode(Self.exampleText))
    }

    func testUnknownFieldsAreStillValidated() {
        assertRejected(Self.message(extra: "\"u\":[1,2"), "invalid_json")
        assertRejected(Self.message(extra: "\"u\":{\"a\"}"), "invalid_json")
        assertRejected(Self.message(extra: "\"u\":\"\\uDE00\""), "invalid_json")
        assertRejected(Self.message(extra: "\"u\":01"), "invalid_json")
    }

    // MARK: Duplicates, missing fields, wrong types

    func testDuplicateOfEveryKnownField() {
        for (name, value) in Self.exampleFields {
            assertRejected(Self.message(extra: "\"\(name)\":\(value)"), "duplicate_field:\(name)")
            // Even when the second one is null.
            assertRejected(Self.message(extra: "\"\(name)\":null"), "duplicate_field:\(name)")
        }
    }

    func testDuplicateSpelledWithEscapes() {
        assertRejected(Self.message(extra: #""card\u005fid":"card-7f3a9c""#), "duplicate_field:card_id")
        assertRejected(Self.message(extra: #""\u006Dcc":"5411""#), "duplicate_field:mcc")
    }

    func testFieldNamesAreMatchedExactly() {
        func named(_ bytes: [UInt8]) -> TransactionField? {
            bytes.withUnsafeBufferPointer { TransactionField.named($0.baseAddress!, count: $0.count) }
        }
        for field in TransactionField.allCases {
            let name = Array(field.name.utf8)
            XCTAssertEqual(named(name), field)
            for i in name.indices {
                var changed = name
                changed[i] ^= 0x20
                XCTAssertNil(named(changed), String(decoding: changed, as: UTF8.self))
            }
            XCTAssertNil(named(name + [UInt8(ascii: "x")]))
            XCTAssertNil(named([UInt8(ascii: "x")] + name.dropFirst()))
        }
    }

    func testEscapedKnownFieldNamesAreRecognised() {
        let text = Self.message(["card_id": nil, "currency": nil])
            .replacingOccurrences(of: "}", with: #","card\u005Fid":"card-7f3a9c","\u0063urrency":"EUR"}"#)
        XCTAssertEqual(Self.decode(text), Self.decode(Self.exampleText))
    }

    func testMissingRequiredFields() {
        for (name, _) in Self.exampleFields where name != "lat" && name != "lon" {
            assertRejected(Self.message([name: nil]), "missing_field:\(name)")
            assertRejected(Self.message([name: "null"]), "missing_field:\(name)")
        }
        assertRejected("{}", "missing_field:schema_version")
    }

    func testWrongTypes() {
        let notStrings = ["1", "1.5", "true", "false", "{}", "[]", "[\"x\"]", "{\"a\":\"x\"}"]
        for name in ["transaction_id", "card_id", "currency", "merchant_id", "mcc", "country", "channel"] {
            for value in notStrings {
                assertRejected(Self.message([name: value]), "wrong_type:\(name)")
            }
        }
        let notIntegers = ["\"1\"", "true", "false", "{}", "[]", "[1]", "1.0", "1.5", "1e3", "1E3", "10e-1", "-1.0"]
        for name in ["schema_version", "amount_minor", "event_time_ms"] {
            for value in notIntegers {
                assertRejected(Self.message([name: value]), "wrong_type:\(name)")
            }
        }
        for name in ["lat", "lon"] {
            for value in ["\"52.52\"", "true", "false", "{}", "[]", "[52.52]"] {
                assertRejected(Self.message([name: value]), "wrong_type:\(name)")
            }
        }
    }

    // MARK: schema_version

    func testSchemaVersion() {
        for value in ["0", "2", "-1", "-0", "100", "9223372036854775807", "9223372036854775808", "123456789012345678901"] {
            assertRejected(Self.message(["schema_version": value]), "unknown_schema_version")
        }
        assertRejected(Self.message(["schema_version": "1.0"]), "wrong_type:schema_version")
    }

    // MARK: Identifiers

    func testIdentifierLengthsInBytes() {
        for name in ["transaction_id", "card_id", "merchant_id"] {
            let key = name == "card_id" ? nil : Self.exampleKey
            func check(_ id: String, decoded: String? = nil, accepted: Bool, line: UInt = #line) {
                let text = Self.message([name: "\"\(id)\""])
                let decoded = decoded ?? id
                if accepted {
                    let t = assertAccepted(text, key: key ?? decoded, line: line)
                    let value = name == "transaction_id" ? t?.transactionId : name == "card_id" ? t?.cardId : t?.merchantId
                    XCTAssertEqual(value, decoded, line: line)
                    XCTAssertLessThanOrEqual(decoded.utf8.count, 64, line: line)
                } else {
                    assertRejected(text, "invalid_value:\(name)", key: key ?? decoded, line: line)
                }
            }
            check("", accepted: false)
            check("a", accepted: true)
            check(String(repeating: "a", count: 64), accepted: true)
            check(String(repeating: "a", count: 65), accepted: false)
            check(String(repeating: "é", count: 32), accepted: true)  // 64 bytes, 32 characters
            check(String(repeating: "é", count: 32) + "a", accepted: false)
            check(String(repeating: "😀", count: 16), accepted: true)  // 64 bytes, 16 characters
            check(String(repeating: "😀", count: 16) + "a", accepted: false)
            check(String(repeating: "中", count: 21) + "a", accepted: true)  // 64 bytes
            check(String(repeating: "中", count: 22), accepted: false)  // 66 bytes
            // Counted after unescaping: 32 × \u00e9 is 192 characters of text but 64 bytes.
            check(String(repeating: "\\u00e9", count: 32), decoded: String(repeating: "é", count: 32), accepted: true)
            check(String(repeating: "\\u00e9", count: 32) + "a", accepted: false)
            check(String(repeating: "\\ud83d\\ude00", count: 16), decoded: String(repeating: "😀", count: 16), accepted: true)
            check(String(repeating: "\\ud83d\\ude00", count: 16) + "\\n", accepted: false)
            check(String(repeating: "\\\\", count: 64), decoded: String(repeating: "\\", count: 64), accepted: true)
            check(String(repeating: "\\\\", count: 65), accepted: false)
        }
    }

    func testEscapesInIdentifiers() {
        let text = Self.message([
            "transaction_id": #""q\"b\\s\/b\bf\fn\nr\rt\tu\u0041\u00e9\u4e2d\uD83D\uDE00""#,
            "card_id": #""card\u002D7f3a9c""#,
            "merchant_id": #""\u0000""#,
        ])
        let t = assertAccepted(text)
        XCTAssertEqual(t?.transactionId, "q\"b\\s/b\u{8}f\u{C}n\nr\rt\tuAé中😀")
        XCTAssertEqual(t?.cardId, "card-7f3a9c")
        XCTAssertEqual(t?.merchantId, "\u{0}")
    }

    // MARK: amount_minor

    func testAmountBoundaries() {
        XCTAssertEqual(assertAccepted(Self.message(["amount_minor": "1"]))?.amountMinor, 1)
        XCTAssertEqual(assertAccepted(Self.message(["amount_minor": "1000000000000"]))?.amountMinor, 1_000_000_000_000)
        for value in ["0", "-0", "-1", "1000000000001", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "-9223372036854775809", "99999999999999999999999"]
        {
            assertRejected(Self.message(["amount_minor": value]), "out_of_range:amount_minor")
        }
        for value in ["12999.0", "1.2e4", "1e12", "0.5"] {
            assertRejected(Self.message(["amount_minor": value]), "wrong_type:amount_minor")
        }
    }

    // MARK: Codes

    func testCurrency() {
        let examples: [(String, Int)] = [("EUR", 2), ("JPY", 0), ("KWD", 3), ("CLF", 4), ("USD", 2), ("XCG", 2)]
        for (code, exponent) in examples {
            let t = assertAccepted(Self.message(["currency": "\"\(code)\""]))
            XCTAssertEqual(t?.currency.code, code)
            XCTAssertEqual(t?.currency.minorUnitExponent, exponent)
        }
        XCTAssertEqual(assertAccepted(Self.message(["currency": #""\u0045UR""#]))?.currency.code, "EUR")
        for value in ["eur", "Eur", "EU", "EURO", "", " EUR", "EUR ", "XXX", "XAU", "XTS", "HRK", "DEM", "ABC", "€", "E\\u0000R"] {
            assertRejected(Self.message(["currency": "\"\(value)\""]), "invalid_value:currency")
        }
    }

    func testMerchantCategoryCode() {
        for (text, mcc) in [("5411", 5411), ("0742", 742), ("0000", 0), ("9999", 9999), ("\\u00354\\u00311", 5411)] {
            XCTAssertEqual(assertAccepted(Self.message(["mcc": "\"\(text)\""]))?.mcc, UInt16(mcc))
        }
        for value in ["", "541", "54111", "54a1", " 541", "5411 ", "-541", "+541", "54.1", "５４１１", "٥٤١١"] {
            assertRejected(Self.message(["mcc": "\"\(value)\""]), "invalid_value:mcc")
        }
        assertRejected(Self.message(["mcc": "5411"]), "wrong_type:mcc")
    }

    func testCountry() {
        for code in ["DE", "US", "GB", "JP", "SS", "AQ", "BQ"] {
            XCTAssertEqual(assertAccepted(Self.message(["country": "\"\(code)\""]))?.country.code, code)
        }
        for value in ["de", "De", "D", "DEU", "", "UK", "EU", "XK", "ZZ", "AA", "AN", "YU", "D1", "Ü"] {
            assertRejected(Self.message(["country": "\"\(value)\""]), "invalid_value:country")
        }
    }

    func testChannel() {
        for value in ["POS", "Pos", "ecommerce", "e-com", "", "online", "atm ", "cnp", "po", "ecomm"] {
            assertRejected(Self.message(["channel": "\"\(value)\""]), "invalid_value:channel")
        }
    }

    // MARK: lat / lon

    func testLatLonPairing() {
        assertRejected(Self.message(["lon": nil]), "lat_lon_pair")
        assertRejected(Self.message(["lat": nil]), "lat_lon_pair")
        assertRejected(Self.message(["lat": "null"]), "lat_lon_pair")
        assertRejected(Self.message(["lon": "null"]), "lat_lon_pair")
        XCTAssertNil(assertAccepted(Self.message(["lat": "null", "lon": "null"]))?.location)
        XCTAssertNil(assertAccepted(Self.message(["lat": nil, "lon": nil]))?.location)
    }

    func testLatLonRanges() {
        let accepted: [(String, String, Double, Double)] = [
            ("90", "180", 90, 180), ("-90", "-180", -90, -180), ("90.0", "-180.000", 90, -180),
            ("0", "0", 0, 0), ("-0.0", "-0", 0, 0), ("52", "13", 52, 13), ("5.252e1", "1340.5E-2", 52.52, 13.405),
            ("1e-400", "-1e-400", 0, 0), ("0.0000000000000000000000000001", "1.7976931348623157e-300", 1e-28, 1.7976931348623157e-300),
            ("89.99999999999999999999999", "179.999999999999999999999", 90, 180),
        ]
        for (lat, lon, expectedLat, expectedLon) in accepted {
            let t = assertAccepted(Self.message(["lat": lat, "lon": lon]))
            XCTAssertEqual(t?.location?.lat, expectedLat, lat)
            XCTAssertEqual(t?.location?.lon, expectedLon, lon)
        }
        for lat in ["90.0001", "-90.0001", "90.00000000000001", "91", "1e3", "1e400", "-1e400", "180"] {
            assertRejected(Self.message(["lat": lat]), "out_of_range:lat")
        }
        for lon in ["180.0001", "-180.5", "181", "1e400", "360"] {
            assertRejected(Self.message(["lon": lon]), "out_of_range:lon")
        }
        // Checked before pairing: a bad lat alone is its own problem.
        assertRejected(Self.message(["lat": "91", "lon": nil]), "out_of_range:lat")
    }

    func testCoordinatesAreCorrectlyRounded() {
        // The fast path and Swift's correctly rounded parser must agree on every number.
        var random = Random(seed: 0xC0FFEE)
        for _ in 0..<20_000 {
            let integer = Int(random.next() % 181) - 90
            let fractionDigits = Int(random.next() % 19)
            var text = String(integer)
            if fractionDigits > 0 {
                text += "." + String((0..<fractionDigits).map { _ in Character(String(random.next() % 10)) })
            }
            if random.next() % 4 == 0 { text += "e" + String(Int(random.next() % 50) - 25) }
            XCTAssertEqual(Self.parseDouble(text), Double(text)!, text)
        }
        for text in ["52.52", "13.405", "0.1", "0.3", "-33.8688", "151.2093", "9007199254740993", "1e22", "1e23",
            "123456789012345678901234567890", "2.2250738585072011e-308", "4.9e-324", "1.7976931348623157e308"]
        {
            XCTAssertEqual(Self.parseDouble(text), Double(text)!, text)
        }
    }

    static func parseDouble(_ text: String) -> Double {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { JSONNumber.double($0.baseAddress!, from: 0, to: $0.count) }
    }

    // MARK: event_time_ms

    func testEventTime() {
        XCTAssertEqual(assertAccepted(Self.message(["event_time_ms": "0"]))?.eventTimeMs, 0)
        XCTAssertEqual(assertAccepted(Self.message(["event_time_ms": "-0"]))?.eventTimeMs, 0)
        XCTAssertEqual(assertAccepted(Self.message(["event_time_ms": "9223372036854775807"]))?.eventTimeMs, .max)
        for value in ["-1", "-1764000000000", "9223372036854775808", "-9223372036854775808", "100000000000000000000"] {
            assertRejected(Self.message(["event_time_ms": value]), "out_of_range:event_time_ms")
        }
        assertRejected(Self.message(["event_time_ms": "1.764e12"]), "wrong_type:event_time_ms")
    }

    // MARK: Kafka key

    func testKeyMustEqualCardId() {
        assertRejected(Self.exampleText, "key_mismatch", key: nil)
        assertRejected(Self.exampleText, "key_mismatch", key: "")
        assertRejected(Self.exampleText, "key_mismatch", key: "card-7f3a9")
        assertRejected(Self.exampleText, "key_mismatch", key: "card-7f3a9c ")
        assertRejected(Self.exampleText, "key_mismatch", key: "CARD-7f3a9c")
        assertRejected(Self.exampleText, "key_mismatch", key: "tx-000042")
        // Compared with the unescaped card_id.
        assertAccepted(Self.message(["card_id": #""c\u00e9\/""#]), key: "cé/")
        assertRejected(Self.message(["card_id": #""c\u00e9\/""#]), "key_mismatch", key: #"c\u00e9\/"#)
    }

    // MARK: Order of checks

    func testFirstProblemInDocumentedOrder() {
        // Size, then UTF-8, then syntax, then not-an-object.
        assertRejected(bytes: Array(#"{"a":""#.utf8) + [0xFF] + Array(#""}"#.utf8) + [UInt8](repeating: 32, count: 16400), "too_large")
        assertRejected(bytes: Array("[1,".utf8) + [0xFF], "invalid_utf8")
        assertRejected("[1,", "invalid_json")
        // Fields in contract order, whatever their order in the message.
        let many = "{\"event_time_ms\":-1,\"channel\":\"x\",\"currency\":\"x\",\"card_id\":5,\"schema_version\":1}"
        assertRejected(many, "missing_field:transaction_id")
        assertRejected(Self.message(["schema_version": "2", "card_id": nil]), "unknown_schema_version")
        assertRejected(Self.message(["card_id": "5", "transaction_id": "\"\""]), "invalid_value:transaction_id")
        assertRejected(Self.message(["amount_minor": "0", "currency": "\"eur\""]), "out_of_range:amount_minor")
        assertRejected(Self.message(["currency": "\"eur\"", "merchant_id": nil]), "invalid_value:currency")
        assertRejected(Self.message(["mcc": "\"1\"", "country": "\"de\""]), "invalid_value:mcc")
        assertRejected(Self.message(["country": "\"de\"", "channel": "1"]), "invalid_value:country")
        assertRejected(Self.message(["lat": "true", "lon": nil]), "wrong_type:lat")
        assertRejected(Self.message(["lon": nil, "event_time_ms": "-1"]), "lat_lon_pair")
        assertRejected(Self.message(["lon": "200", "event_time_ms": "-1"]), "out_of_range:lon")
        // For one field: duplicate, then missing, then type, then value.
        assertRejected(Self.message(["mcc": "5"], extra: "\"mcc\":\"x\""), "duplicate_field:mcc")
        // The key comes last.
        assertRejected(Self.message(["event_time_ms": "-5"]), "out_of_range:event_time_ms", key: "other")
        assertRejected(Self.message(["card_id": "\"\""]), "invalid_value:card_id", key: nil)
    }

    // MARK: Hostile input

    func testEveryPrefixOfValidMessagesIsRejected() {
        let messages = [
            Self.exampleText,
            Self.message(extra: #""u":{"a":[1,-2.5e-3,true,false,null,"\uD83D\uDE00\"é"]},"v":"中""#),
            Self.message(["transaction_id": #""t\u00e9\n😀""#]),
        ]
        for message in messages {
            let bytes = Array(message.utf8)
            for length in 0..<bytes.count {
                let result = Self.decodeBytes(Array(bytes[..<length]))
                switch result {
                case .success:
                    XCTFail("prefix of \(length) bytes accepted")
                case .failure(let reason):
                    XCTAssertTrue(
                        ["invalid_json", "invalid_utf8"].contains(reason.code), "\(length): \(reason.code)")
                }
            }
            XCTAssertNotNil(try? Self.decodeBytes(bytes).get())
        }
    }

    func testRandomMutationsNeverCrash() {
        var random = Random(seed: 42)
        let seeds = [
            Array(Self.exampleText.utf8),
            Array(Self.message(extra: #""u":{"a":[1,-2.5e-3,true,false,null,"\uD83D\uDE00\"é"]}"#).utf8),
            Array(Self.message(["transaction_id": #""t\u00e9\n😀""#, "lat": "-0.5e1"]).utf8),
        ]
        let interesting: [UInt8] = Array("{}[]\",:\\ -0123456789.eEtrufalsn".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
        var outcomes: [String: Int] = [:]
        for round in 0..<6_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(bytes.count + 1))
                switch random.next() % 6 {
                case 0 where position < bytes.count: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1 where position < bytes.count: bytes[position] = interesting[Int(random.next() % UInt64(interesting.count))]
                case 2: bytes.insert(interesting[Int(random.next() % UInt64(interesting.count))], at: position)
                case 3 where position < bytes.count: bytes.remove(at: position)
                case 4:
                    let end = min(bytes.count, position + Int(random.next() % 16))
                    bytes.insert(contentsOf: bytes[position..<end], at: position)
                default:
                    bytes[position...].reverse()
                }
            }
            let result = Self.decodeBytes(bytes)
            XCTAssertEqual(result, Self.decodeBytes(bytes), "deterministic")
            switch result {
            case .success:
                outcomes["ok", default: 0] += 1
                let valid = bytes.withUnsafeBytes { JSONScanner.validate($0) }
                XCTAssertNil(valid, "accepted a message the scanner finds invalid")
            case .failure(let reason):
                outcomes[reason.code, default: 0] += 1
            }
        }
        XCTAssertGreaterThan(outcomes["invalid_json", default: 0], 0)
        XCTAssertGreaterThan(outcomes["invalid_utf8", default: 0], 0)
    }

    func testRandomBytesNeverCrash() {
        var random = Random(seed: 7)
        for _ in 0..<2_000 {
            let count = Int(random.next() % 64)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = Self.decodeBytes(bytes)
            let structural = (0..<count).map { _ in Array("{}[]\":,1a\\".utf8)[Int(random.next() % 10)] }
            _ = Self.decodeBytes(structural)
        }
    }

    // MARK: Seed corpus

    func testSeedCorpusMatchesFileNames() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz/seeds")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 30)
        var expectations = Set<String>()
        for name in names {
            // "<expected>.<description>.json": expected is "ok" or a reject code with ':' written as '='.
            let expected = String(name.split(separator: ".")[0]).replacingOccurrences(of: "=", with: ":")
            expectations.insert(expected)
            let bytes = [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
            let code: String
            switch Self.decodeBytes(bytes) {
            case .success: code = "ok"
            case .failure(let reason): code = reason.code
            }
            XCTAssertEqual(code, expected, name)
        }
        for kind in ["ok", "too_large", "invalid_utf8", "invalid_json", "not_an_object", "nesting_too_deep",
            "unknown_schema_version", "lat_lon_pair", "key_mismatch"]
        {
            XCTAssertTrue(expectations.contains(kind), "no seed for \(kind)")
        }
        for prefix in ["duplicate_field:", "missing_field:", "wrong_type:", "invalid_value:", "out_of_range:"] {
            XCTAssertTrue(expectations.contains { $0.hasPrefix(prefix) }, "no seed for \(prefix)")
        }
    }

    // MARK: Speed (prints only)

    func testDecodeSpeed() {
        let value = Array(Self.exampleText.utf8)
        let key = Array(Self.exampleKey.utf8)
        let iterations = 20_000
        var accepted = 0
        let clock = ContinuousClock()
        let elapsed = value.withUnsafeBytes { v in
            key.withUnsafeBytes { k in
                clock.measure {
                    for _ in 0..<iterations {
                        if case .success = TransactionDecoder.decode(value: v, key: k) { accepted += 1 }
                    }
                }
            }
        }
        XCTAssertEqual(accepted, iterations)
        let nanoseconds = Double(elapsed.components.attoseconds) / 1e9 + Double(elapsed.components.seconds) * 1e9
        print("TransactionDecoder: \(Int(nanoseconds / Double(iterations))) ns per example message (this build)")
    }

    /// SplitMix64: a small deterministic PRNG for reproducible fuzzing in tests.
    struct Random {
        private var state: UInt64

        init(seed: UInt64) {
            state = seed
        }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
