import Foundation
import VigilTraffic
import XCTest

/// A message with the simulated clock it was generated at.
struct Sample {
    var nowMs: Int64
    var message: GeneratedMessage
}

enum Traffic {
    static let startMs: Int64 = 1_764_000_000_000

    /// Generates `count` messages on a simulated clock that advances `stepMs` per message.
    static func generate(_ profile: TrafficProfile, count: Int, stepMs: Int64 = 20) -> [Sample] {
        var generator = TrafficGenerator(profile: profile)
        var samples = [Sample]()
        samples.reserveCapacity(count)
        for i in 0..<count {
            let nowMs = startMs + Int64(i) * stepMs
            samples.append(Sample(nowMs: nowMs, message: generator.next(nowMs: nowMs)))
        }
        return samples
    }

    static func profile(
        seed: UInt64 = 42, fraud: Double = 0.002, malformed: Double = 0.001, outOfOrder: Double = 0.01,
        late: Double = 0.0005
    ) -> TrafficProfile {
        var profile = TrafficProfile()
        profile.seed = seed
        profile.fraudCardFraction = fraud
        profile.malformedFraction = malformed
        profile.outOfOrderFraction = outOfOrder
        profile.lateFraction = late
        return profile
    }
}

/// A message value parsed with Foundation (tests only). Immutable after parsing.
struct ParsedTransaction: @unchecked Sendable {
    let object: [String: Any]

    init?(_ bytes: [UInt8]) {
        guard let any = try? JSONSerialization.jsonObject(with: Data(bytes)), let object = any as? [String: Any]
        else { return nil }
        self.object = object
    }

    func string(_ key: String) -> String? { object[key] as? String }
    /// An integer (JSON `true` and fractional numbers are not).
    func int(_ key: String) -> Int64? {
        // Foundation bridges 0 and 1 to Bool too, so booleans are told apart by their class.
        guard let value = object[key], !"\(type(of: value))".contains("Boolean"), let int = value as? Int else {
            return nil
        }
        return Int64(int)
    }
    func double(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }

    var cardId: String { string("card_id") ?? "" }
    var country: String { string("country") ?? "" }
    var channel: String { string("channel") ?? "" }
    var mcc: String { string("mcc") ?? "" }
    var amountMinor: Int64 { int("amount_minor") ?? 0 }
    var currency: String { string("currency") ?? "" }
    var eventTimeMs: Int64 { int("event_time_ms") ?? 0 }
    var hasLocation: Bool { object["lat"] != nil }
    var lat: Double { double("lat") ?? .nan }
    var lon: Double { double("lon") ?? .nan }
}

/// The contract's rules for a `transactions` message; returns every rule the message breaks.
enum Contract {
    static let requiredFields = [
        "schema_version", "transaction_id", "card_id", "amount_minor", "currency", "merchant_id", "mcc", "country",
        "channel", "event_time_ms",
    ]

    static func violations(key: [UInt8]?, value: [UInt8]) -> [String] {
        var problems = [String]()
        if value.count > 16 * 1024 { problems.append("larger than 16 KiB") }
        guard let t = ParsedTransaction(value) else { return problems + ["not a JSON object"] }
        for field in requiredFields where t.object[field] == nil { problems.append("missing \(field)") }
        if t.object["schema_version"] != nil && t.int("schema_version") != 1 { problems.append("schema_version") }
        for field in ["transaction_id", "card_id", "merchant_id"] where t.object[field] != nil {
            let length = t.string(field)?.utf8.count ?? 0
            if !(1...64).contains(length) { problems.append("\(field) length") }
        }
        if t.object["amount_minor"] != nil {
            if let amount = t.int("amount_minor") {
                if !(amount > 0 && amount <= 1_000_000_000_000) { problems.append("amount_minor range") }
            } else {
                problems.append("amount_minor not an integer")
            }
        }
        if t.object["currency"] != nil && !matches(t.string("currency"), count: 3, \.isUpperCaseLetter) {
            problems.append("currency")
        }
        if t.object["mcc"] != nil && !matches(t.string("mcc"), count: 4, \.isDigit) { problems.append("mcc") }
        if t.object["country"] != nil && !matches(t.string("country"), count: 2, \.isUpperCaseLetter) {
            problems.append("country")
        }
        if t.object["channel"] != nil && !["pos", "ecom", "atm"].contains(t.string("channel") ?? "") {
            problems.append("channel")
        }
        if (t.object["lat"] == nil) != (t.object["lon"] == nil) { problems.append("lat/lon not together") }
        if t.object["lat"] != nil {
            guard let lat = t.double("lat"), let lon = t.double("lon"), (-90...90).contains(lat),
                (-180...180).contains(lon)
            else { return problems + ["lat/lon range"] }
        }
        if t.object["event_time_ms"] != nil && t.int("event_time_ms") == nil { problems.append("event_time_ms") }
        if let cardId = t.string("card_id"), key != Array(cardId.utf8) { problems.append("key differs from card_id") }
        return problems
    }

    private static func matches(_ s: String?, count: Int, _ rule: KeyPath<Character, Bool>) -> Bool {
        guard let s, s.count == count else { return false }
        return s.allSatisfy { $0.isASCII && $0[keyPath: rule] }
    }
}

extension Character {
    var isUpperCaseLetter: Bool { isLetter && isUppercase }
    var isDigit: Bool { ("0"..."9").contains(self) }
}

/// Great-circle distance in km (haversine, radius 6371 km), as the feature catalog defines it.
func haversineKm(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
    let rad = Double.pi / 180
    let dLat = (lat2 - lat1) * rad
    let dLon = (lon2 - lon1) * rad
    let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dLon / 2) * sin(dLon / 2)
    return 2 * 6371 * asin(min(1, sqrt(a)))
}
