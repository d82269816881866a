extension JSONByteWriter {
    /// Room for any transaction the generator writes, apart from a `Defect.padding` field's content.
    static let transactionCapacity = 512

    /// Writes `draft` as a contract transaction, changed by `defect`, and returns where the transaction id's text
    /// lies in the output (nil if the defect dropped it).
    mutating func transaction(_ draft: TransactionDraft, idPrefix: UInt32, defect: Defect) -> Range<Int>? {
        var missing: RequiredField?
        if case .missing(let field) = defect { missing = field }
        var transactionId: Range<Int>?
        var first = true

        byte(UInt8(ascii: "{"))
        if missing != .schemaVersion {
            field("schema_version", first: &first)
            raw("1")
        }
        if missing != .transactionId {
            field("transaction_id", first: &first)
            byte(UInt8(ascii: "\""))
            let start = count
            raw("tx-")
            hex8(idPrefix)
            byte(UInt8(ascii: "-"))
            unsigned(UInt64(draft.sequence), minimumDigits: 1)
            transactionId = start..<count
            byte(UInt8(ascii: "\""))
        }
        if missing != .cardId {
            field("card_id", first: &first)
            raw("\"card-")
            hex8(draft.cardToken)
            byte(UInt8(ascii: "\""))
        }
        if missing != .amountMinor {
            field("amount_minor", first: &first)
            if case .amount(let amount) = defect {
                integer(amount)
            } else {
                integer(draft.amountMinor)
            }
        }
        if missing != .currency {
            field("currency", first: &first)
            byte(UInt8(ascii: "\""))
            if case .currency(let code) = defect {
                raw(code)
            } else {
                raw(draft.currency.code)
            }
            byte(UInt8(ascii: "\""))
        }
        if missing != .merchantId {
            field("merchant_id", first: &first)
            raw("\"m-")
            unsigned(UInt64(draft.merchant), minimumDigits: 5)
            byte(UInt8(ascii: "\""))
        }
        if missing != .mcc {
            field("mcc", first: &first)
            byte(UInt8(ascii: "\""))
            unsigned(UInt64(draft.mcc), minimumDigits: 4)
            byte(UInt8(ascii: "\""))
        }
        if missing != .country {
            field("country", first: &first)
            byte(UInt8(ascii: "\""))
            raw(Geography.countries[draft.country].code)
            byte(UInt8(ascii: "\""))
        }
        if missing != .channel {
            field("channel", first: &first)
            byte(UInt8(ascii: "\""))
            if case .channel(let channel) = defect {
                raw(channel)
            } else {
                raw(draft.channel.json)
            }
            byte(UInt8(ascii: "\""))
        }
        if let location = draft.location {
            field("lat", first: &first)
            fixed5(location.latE5)
            field("lon", first: &first)
            fixed5(location.lonE5)
        }
        if missing != .eventTimeMs {
            field("event_time_ms", first: &first)
            integer(draft.eventTimeMs)
        }
        if case .padding(let count) = defect {
            field("padding", first: &first)
            byte(UInt8(ascii: "\""))
            repeated(UInt8(ascii: "x"), count: count)
            byte(UInt8(ascii: "\""))
        }
        byte(UInt8(ascii: "}"))
        return transactionId
    }

    /// The contract's card id for a token: "card-" and eight hex digits.
    static func cardId(_ token: UInt32) -> [UInt8] {
        bytes(capacity: 13) { writer in
            writer.raw("card-")
            writer.hex8(token)
        }
    }

    /// The contract's merchant id for a merchant number, as `transaction` writes it: "m-" and at least five digits.
    static func merchantId(_ number: Int) -> String {
        String(decoding: bytes(capacity: 24) { writer in
            writer.raw("m-")
            writer.unsigned(UInt64(number), minimumDigits: 5)
        }, as: UTF8.self)
    }

    @inline(__always)
    private mutating func field(_ name: StaticString, first: inout Bool) {
        if first {
            first = false
        } else {
            byte(UInt8(ascii: ","))
        }
        byte(UInt8(ascii: "\""))
        raw(name)
        raw("\":")
    }
}
