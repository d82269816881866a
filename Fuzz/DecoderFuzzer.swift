// libFuzzer target for TransactionDecoder (contract v1) and, through the round
// trip, JSONWriter. Built by Fuzz/run.sh in the same module as
// Sources/VigilCore/*.swift, without SwiftPM; it only uses VigilCore's public API.
//
// Input layout: if the input contains a 0x00 byte, the bytes before the first
// one are the Kafka key and the bytes after it the message value. Without a
// 0x00, the whole input is the value and the key is the message's own
// `card_id` (its first top-level occurrence, unescaped, if it is a string;
// otherwise no key), so that plain JSON inputs such as the seeds can be
// accepted.
//
// Properties checked on every input (a violation is a fatalError, which
// libFuzzer reports as a crash and saves):
//  1. decode never traps, and ASan sees no read outside the value or key
//     (both are copied into allocations of exactly their size);
//  2. decode is deterministic: the same buffers twice, and the [UInt8]
//     overload, give equal results;
//  3. it agrees with Fuzz/ReferenceDecoder.swift, an independent plain
//     implementation of the contract and of the documented reject order:
//     the same reject code, or the same field values;
//  4. an accepted transaction satisfies every contract rule on its own
//     (identifiers 1-64 bytes, amount 1...10^12, ISO codes upper case and
//     known, mcc 0...9999, channel, lat/lon finite and in range, event time
//     >= 0) and its card_id is byte-equal to the key;
//  5. the same value with no key, or with a key that differs by one byte, is
//     rejected with key_mismatch;
//  6. round trip: the transaction written with JSONWriter (contract field
//     order, and again in reverse order with an unknown nested member)
//     decodes to an equal transaction (Transaction's ==, so a -0.0
//     coordinate written as 0 counts as equal), and the reference decodes
//     the written bytes to the same values, bit for bit.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    let value: [UInt8]
    let key: [UInt8]?
    if let separator = input.firstIndex(of: 0) {
        key = Array(input[..<separator])
        value = Array(input[(separator + 1)...])
    } else {
        value = Array(input)
        key = FuzzCheck.ownCardId(value)
    }
    FuzzCheck(value: value, key: key).run()
    return 0
}

struct FuzzCheck {
    let value: [UInt8]
    let key: [UInt8]?

    /// The first top-level `card_id` if it is a string, per the reference parser.
    static func ownCardId(_ value: [UInt8]) -> [UInt8]? {
        guard case .success(let members?) = Reference.members(value) else { return nil }
        for (name, kind) in members where name == Array("card_id".utf8) {
            if case .string(let s) = kind { return s }
            return nil
        }
        return nil
    }

    func run() {
        let result = Self.decodeExact(value, key: key)

        // 2. Determinism.
        let again = Self.decodeExact(value, key: key)
        guard again == result else { fail("decode is not deterministic: \(result) then \(again)") }
        let viaArrays = TransactionDecoder.decode(value: value, key: key)
        guard viaArrays == result else { fail("[UInt8] overload differs: \(result) vs \(viaArrays)") }

        // 3. Differential check against the reference.
        let expected = Reference.decode(value, key: key)
        switch (result, expected) {
        case (.failure(let reason), .failure(let expected)):
            guard reason.code == expected.code else {
                fail("reject code \(reason.code), reference says \(expected.code)")
            }
            return
        case (.failure(let reason), .success(let tx)):
            fail("rejected with \(reason.code), reference accepts \(tx)")
        case (.success(let t), .failure(let expected)):
            fail("accepted \(t), reference rejects with \(expected.code)")
        case (.success(let t), .success(let tx)):
            guard Self.same(t, tx) else { fail("accepted \(t), reference decodes \(tx)") }
            checkAccepted(t)
        }
    }

    // MARK: Accepted transactions

    func checkAccepted(_ t: Transaction) {
        // 4. Contract rules, checked on the decoded value itself.
        for (name, id) in [("transaction_id", t.transactionId), ("card_id", t.cardId), ("merchant_id", t.merchantId)] {
            guard (1...64).contains(id.utf8.count) else { fail("\(name) has \(id.utf8.count) bytes: \(t)") }
        }
        guard t.amountMinor > 0 && t.amountMinor <= 1_000_000_000_000 else { fail("amount_minor out of range: \(t)") }
        let currency = Array(t.currency.code.utf8)
        guard currency.count == 3, currency.allSatisfy(Self.isUpper), CurrencyCode(t.currency.code) == t.currency,
            (0...4).contains(t.currency.minorUnitExponent)
        else { fail("invalid currency \(t.currency): \(t)") }
        let country = Array(t.country.code.utf8)
        guard country.count == 2, country.allSatisfy(Self.isUpper), CountryCode(t.country.code) == t.country,
            !Self.notOfficiallyAssigned.contains(t.country.code)
        else { fail("invalid country \(t.country): \(t)") }
        guard t.mcc <= 9999 else { fail("mcc above 9999: \(t)") }
        guard Channel.allCases.contains(t.channel) else { fail("unknown channel: \(t)") }
        if let p = t.location {
            guard p.lat.isFinite, p.lon.isFinite, p.lat >= -90, p.lat <= 90, p.lon >= -180, p.lon <= 180 else {
                fail("location out of range: \(t)")
            }
        }
        guard t.eventTimeMs >= 0 else { fail("negative event_time_ms: \(t)") }
        guard let key, key == Array(t.cardId.utf8) else { fail("accepted with key \(String(describing: key)) != card_id: \(t)") }

        // 5. The key must match exactly.
        let noKey = Self.decodeExact(value, key: nil)
        guard noKey == .failure(.keyMismatch) else { fail("without a key: \(noKey)") }
        var otherKey = key
        otherKey[otherKey.count - 1] ^= 0x01
        let wrongKey = Self.decodeExact(value, key: otherKey)
        guard wrongKey == .failure(.keyMismatch) else { fail("with key \(otherKey): \(wrongKey)") }
        let longerKey = Self.decodeExact(value, key: key + [UInt8(ascii: "x")])
        guard longerKey == .failure(.keyMismatch) else { fail("with a longer key: \(longerKey)") }

        // 6. Round trip through JSONWriter.
        for reversed in [false, true] {
            let encoded = Self.encode(t, reversed: reversed)
            let decoded = Self.decodeExact(encoded, key: key)
            // Equal as Transactions, i.e. coordinates compare with ==: JSONWriter writes -0.0 as 0.
            guard case .success(let again) = decoded, again == t else {
                fail("round trip (reversed: \(reversed)) gives \(decoded) for \(t); written: \(Self.show(encoded))")
            }
            guard case .success(let tx) = Reference.decode(encoded, key: key), Self.same(again, tx) else {
                fail("reference does not accept the writer's output \(Self.show(encoded)) for \(t)")
            }
        }
    }

    /// The contract's JSON for `t`, written with JSONWriter.
    static func encode(_ t: Transaction, reversed: Bool) -> [UInt8] {
        var w = JSONWriter(capacity: 64)
        var members: [(inout JSONWriter) -> Void] = [
            { $0.key("schema_version"); $0.int(1) },
            { $0.key("transaction_id"); $0.string(t.transactionId) },
            { $0.key("card_id"); $0.string(t.cardId) },
            { $0.key("amount_minor"); $0.int(t.amountMinor) },
            { $0.key("currency"); $0.string(t.currency.code) },
            { $0.key("merchant_id"); $0.string(t.merchantId) },
            { $0.key("mcc"); $0.string(mccText(t.mcc)) },
            { $0.key("country"); $0.string(t.country.code) },
            { $0.key("channel"); $0.string(t.channel.wireName) },
        ]
        if let p = t.location {
            members.append { $0.key("lat"); $0.double(p.lat) }
            members.append { $0.key("lon"); $0.double(p.lon) }
        }
        members.append { $0.key("event_time_ms"); $0.int(t.eventTimeMs) }
        if reversed {
            members.reverse()
            // Unknown fields are ignored, also when they hold known names one level down.
            members.insert(
                { w in
                    w.key("note")
                    w.beginObject()
                    w.key("card_id"); w.string(t.transactionId)
                    w.key("list"); w.beginArray(); w.int(-1); w.double(2.5); w.null(); w.bool(true); w.endArray()
                    w.endObject()
                }, at: 1)
        }
        w.beginObject()
        for member in members { member(&w) }
        w.endObject()
        return w.bytes
    }

    static func mccText(_ mcc: UInt16) -> String {
        let digits = String(mcc)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Helpers

    /// Decodes from allocations of exactly the value's and key's sizes, so ASan sees any read past their ends.
    static func decodeExact(_ value: [UInt8], key: [UInt8]?) -> Result<Transaction, RejectReason> {
        let v = UnsafeMutableRawBufferPointer.allocate(byteCount: value.count, alignment: 1)
        defer { v.deallocate() }
        v.copyBytes(from: value)
        guard let key else { return TransactionDecoder.decode(value: UnsafeRawBufferPointer(v), key: nil) }
        let k = UnsafeMutableRawBufferPointer.allocate(byteCount: key.count, alignment: 1)
        defer { k.deallocate() }
        k.copyBytes(from: key)
        return TransactionDecoder.decode(value: UnsafeRawBufferPointer(v), key: UnsafeRawBufferPointer(k))
    }

    static func same(_ t: Transaction, _ r: Reference.Tx) -> Bool {
        Array(t.transactionId.utf8) == r.transactionId && Array(t.cardId.utf8) == r.cardId
            && t.amountMinor == r.amountMinor && Array(t.currency.code.utf8) == r.currency
            && Array(t.merchantId.utf8) == r.merchantId && t.mcc == r.mcc
            && Array(t.country.code.utf8) == r.country && Array(t.channel.wireName.utf8) == r.channel
            && t.location?.lat.bitPattern == r.lat?.bitPattern && t.location?.lon.bitPattern == r.lon?.bitPattern
            && t.eventTimeMs == r.eventTimeMs
    }

    static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }

    /// User-assigned and reserved alpha-2 codes that must never be accepted (a spot check; the table has its own tests).
    static let notOfficiallyAssigned: Set<String> = [
        "AA", "QM", "QN", "QO", "QP", "QZ", "XA", "XK", "XX", "XZ", "ZZ", "UK", "EU", "UN", "EZ",
    ]

    /// Printable form of bytes: ASCII as is, everything else as \xNN; long inputs shortened.
    static func show(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes.prefix(2000) {
            if b >= 0x20 && b < 0x7F && b != UInt8(ascii: "\\") {
                s.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = String(b, radix: 16)
                s += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        if bytes.count > 2000 { s += "... (\(bytes.count) bytes)" }
        return s
    }

    func fail(_ message: String) -> Never {
        let keyText = key.map { "\"" + Self.show($0) + "\"" } ?? "nil"
        fatalError("PROPERTY VIOLATION: \(message)\n  key: \(keyText)\n  value (\(value.count) bytes): \(Self.show(value))")
    }
}
