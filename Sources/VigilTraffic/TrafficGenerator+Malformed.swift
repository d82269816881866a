extension TrafficGenerator {
    /// A message that breaks the contract, built from an ordinary payment; kinds take turns.
    mutating func malformedMessage(nowMs: Int64) -> GeneratedMessage {
        let kinds = MalformedKind.allCases
        let kind = kinds[malformedCount % kinds.count]
        malformedCount += 1
        let card = population.card(at: population.pick(random.unit()))
        let draft = everydayDraft(card, eventTimeMs: freshEventTime(nowMs: nowMs))

        switch kind {
        case .notJSON:
            let prefix = transactionPrefix
            let text = JSONByteWriter.bytes(capacity: 128) { writer in
                writer.raw("tx-")
                writer.hex8(prefix)
                writer.byte(UInt8(ascii: "-"))
                writer.unsigned(UInt64(draft.sequence), minimumDigits: 1)
                writer.raw("|card-")
                writer.hex8(draft.cardToken)
                writer.byte(UInt8(ascii: "|"))
                writer.integer(draft.amountMinor)
                writer.byte(UInt8(ascii: "|"))
                writer.raw(draft.currency.code)
                writer.byte(UInt8(ascii: "|"))
                writer.integer(draft.eventTimeMs)
            }
            return GeneratedMessage(
                key: JSONByteWriter.cardId(draft.cardToken), value: text, truth: nil, malformed: kind, isLate: false)
        case .truncated:
            var result = message(draft, label: nil, malformed: kind)
            result.value.removeLast(random.int(in: 1...result.value.count - 1))
            return result
        case .missingField:
            let field = RequiredField.allCases[random.below(RequiredField.allCases.count)]
            return message(draft, defect: .missing(field), label: nil, malformed: kind)
        case .badAmount:
            let amount = random.chance(0.5) ? 0 : -draft.amountMinor
            return message(draft, defect: .amount(amount), label: nil, malformed: kind)
        case .badCurrency:
            return message(draft, defect: .currency(random.chance(0.5) ? "EURO" : "eur"), label: nil, malformed: kind)
        case .keyMismatch:
            let other = population.count > 1
                ? population.token(of: (card.index + 1 + random.below(population.count - 1)) % population.count)
                : card.token ^ 1
            return message(draft, label: nil, malformed: kind, key: JSONByteWriter.cardId(other))
        case .badChannel:
            return message(draft, defect: .channel("web"), label: nil, malformed: kind)
        case .oversized:
            return message(draft, defect: .padding(16_384 + random.int(in: 64...4096)), label: nil, malformed: kind)
        }
    }
}
