import VigilTraffic

/// A card-testing attack on one card: thousands of small payments at cheap web shops within minutes, the way a
/// fraudster checks which stolen card details still work.
///
/// The payments are the generator's own card-testing episode steps (0.50-2.00 euro in the card's currency, web
/// shops of the card-testing range with mcc 5967 or 6051 in many countries, e-commerce), written by the generator
/// as contract transactions. Only their `card_id` and Kafka key are moved onto one card, the attack card, whose
/// id is a generated token like any other (`card-` and 8 hex digits, never a card number). Steps in another
/// currency than the first one's are dropped too, so the attack card pays in one currency. The generator runs
/// from its own seed, derived from the run's, so the attack is the same message for message for a given seed and
/// its transaction ids never meet the normal traffic's.
struct CardTestingAttack: Sendable {
    private var generator: TrafficGenerator
    /// The attack card's id as the messages carry it (`card-xxxxxxxx`).
    let cardId: [UInt8]
    /// The attack card's currency (ISO 4217 code).
    let currency: [UInt8]
    private var first: GeneratedMessage?

    /// Cards of the attack's own generator. Every one is a fraud card, so episodes start on one card after another
    /// and never wait for a card whose previous episode is still running; the card-testing steps of all of them
    /// become the attack card's.
    static let generatorCards = 1 << 20

    init(seed: UInt64, startMs: Int64) {
        var profile = TrafficProfile()
        profile.seed = seed ^ 0x4154_5441_434B  // "ATTACK"
        profile.cards = Self.generatorCards
        profile.fraudCardFraction = 1
        profile.outOfOrderFraction = 0
        profile.lateFraction = 0
        profile.malformedFraction = 0
        generator = TrafficGenerator(profile: profile)
        let opening = Self.nextCardTesting(&generator, nowMs: startMs, currency: nil)
        cardId = opening.key ?? []
        currency = JSONPeek.stringValue("currency", in: opening.value).map(Array.init) ?? []
        first = opening
    }

    /// The attack's next payment, with an event time around `nowMs` (a step of an episode can carry its planned
    /// time, at most 4 minutes back, within the allowed out-of-orderness).
    mutating func next(nowMs: Int64) -> GeneratedMessage {
        if let first {
            self.first = nil
            return first
        }
        var message = Self.nextCardTesting(&generator, nowMs: nowMs, currency: currency)
        Self.moveToCard(&message, cardId: cardId)
        return message
    }

    /// Draws from the generator until a card-testing step in `currency` (any, if nil) comes out. Other episode steps
    /// and normal payments are dropped; they keep the generator's episodes (and with them the card-testing steps)
    /// coming.
    private static func nextCardTesting(
        _ generator: inout TrafficGenerator, nowMs: Int64, currency: [UInt8]?
    ) -> GeneratedMessage {
        for _ in 0..<100_000 {
            let message = generator.next(nowMs: nowMs)
            guard message.truth?.pattern == .cardTesting else { continue }
            if let currency, JSONPeek.stringValue("currency", in: message.value).map({ $0.elementsEqual(currency) }) != true {
                continue
            }
            return message
        }
        preconditionFailure("the attack's generator made no card-testing step in 100,000 messages")
    }

    /// Replaces the message's card id (in its JSON value, its key and its ground truth) with `cardId`. Every
    /// generated id has the same length, so the value keeps its layout byte for byte apart from the id.
    static func moveToCard(_ message: inout GeneratedMessage, cardId: [UInt8]) {
        guard let start = idStart(in: message.value), start + cardId.count < message.value.count,
              message.value[start + cardId.count] == UInt8(ascii: "\"") else {
            preconditionFailure("a generated transaction without a card_id of \(cardId.count) bytes")
        }
        message.value.replaceSubrange(start..<(start + cardId.count), with: cardId)
        message.key = cardId
        message.truth?.cardId = String(decoding: cardId, as: UTF8.self)
    }

    /// Where the value of `"card_id":"` begins in a compact JSON transaction.
    private static func idStart(in json: [UInt8]) -> Int? {
        let field = Array(#""card_id":""#.utf8)
        guard json.count >= field.count else { return nil }
        for i in 0...(json.count - field.count) where json[i] == field[0] && json[i..<(i + field.count)].elementsEqual(field) {
            return i + field.count
        }
        return nil
    }
}

/// Which messages of a run with an attack are the attack's: of every `normalRate + attackRate` consecutive
/// messages, `attackRate` are, spread evenly (message i is when floor((i + 1) a / n) > floor(i a / n)). It depends on
/// the message's index only, so the mix is the same whatever the machine does, in an open loop as in a backlog.
struct TrafficMix: Sendable, Equatable {
    let normalRate: Int
    let attackRate: Int

    var totalRate: Int { normalRate + attackRate }

    func isAttack(_ index: Int) -> Bool {
        guard attackRate > 0 else { return false }
        let n = totalRate
        return (index + 1) * attackRate / n > index * attackRate / n
    }
}
