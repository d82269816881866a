import ArgumentParser
import Foundation
import Kafka
import VigilConsole
import VigilCore

/// `vigil console sandbox` (hidden): librdkafka's mock cluster with the console's topics, fed with contract-shaped
/// alerts, feature records and transactions on request, for the browser test (scripts/console-test.sh) and for
/// trying the console by hand. Commands on stdin, one per line; answers on stdout:
///
///     alerts N     N new alerts (each with the card's 4 earlier transactions): "alert <transaction_id> <card_id>" each, then "ok"
///     history N    N old (40-60 days) feature records of other cards for `vigil train`, every tenth fraud with a schema-1 label: "ok"
///     down | up    take broker 1 down / bring it back: "ok"
///     labels       every message on fraud.labels: "label <json>" each, then "ok"
///     quit         (or end of input) stop
struct ConsoleSandbox: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sandbox",
        abstract: "Host a mock Kafka cluster with contract-shaped alerts for trying the console (tests).",
        shouldDisplay: false
    )

    @Option(help: "Partitions per topic.")
    var partitions: Int32 = 3

    func run() throws {
        let cluster = try MockKafkaCluster(brokers: 1)
        for topic in ["transactions", "fraud.alerts", "fraud.features", "fraud.labels", "fraud.decisions"] {
            try cluster.createTopic(topic, partitions: partitions)
        }
        let producer = try KafkaProducer(config: ["bootstrap.servers": cluster.bootstrapServers, "linger.ms": "0"])
        var feeder = SandboxFeeder(runId: String(UInt32.random(in: 0...UInt32.max), radix: 16))
        say("brokers \(cluster.bootstrapServers)")
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            guard let command = words.first else { continue }
            let count = words.count > 1 ? Int(words[1]) ?? 1 : 1
            switch command {
            case "alerts":
                for _ in 0..<count {
                    let (messages, alert) = feeder.episode(nowMs: ConsoleSandbox.nowMs())
                    for m in messages { try producer.produce(topic: m.topic, key: Array(m.key.utf8), value: m.value) }
                    say("alert \(alert.transactionId) \(alert.cardId)")
                }
                _ = try producer.flush(timeoutMs: 10_000)
                say("ok")
            case "history":
                for m in feeder.history(count, nowMs: ConsoleSandbox.nowMs()) {
                    try producer.produce(topic: m.topic, key: Array(m.key.utf8), value: m.value)
                }
                _ = try producer.flush(timeoutMs: 10_000)
                say("ok")
            case "down":
                try cluster.setBrokerDown(1)
                say("ok")
            case "up":
                try cluster.setBrokerUp(1)
                say("ok")
            case "labels":
                for value in try readAll(topic: "fraud.labels", brokers: cluster.bootstrapServers) { say("label \(value)") }
                say("ok")
            case "quit":
                return
            default:
                say("error unknown command \(command)")
            }
            MockKafkaCluster.disableNagleOnProcessSockets()
        }
    }

    func readAll(topic: String, brokers: String) throws -> [String] {
        let consumer = try KafkaConsumer(config: ["bootstrap.servers": brokers])
        defer { try? consumer.close() }
        var end: [TopicPartition: Int64] = [:]
        var start: [TopicPartition: Int64] = [:]
        for p in 0..<partitions {
            let tp = TopicPartition(topic: topic, partition: p)
            let marks = try consumer.watermarks(tp, timeoutMs: 5000)
            if marks.high > marks.low { end[tp] = marks.high; start[tp] = marks.low }
        }
        guard !start.isEmpty else { return [] }
        try consumer.assign(start)
        var values: [String] = []
        var done: [TopicPartition: Int64] = [:]
        let deadline = Date().addingTimeInterval(10)
        while done.count < end.count, Date() < deadline {
            for m in try consumer.pollBatch(maxMessages: 1000, timeoutMs: 200) {
                values.append(String(decoding: m.value, as: UTF8.self))
                if m.offset + 1 >= end[m.topicPartition, default: 0] { done[m.topicPartition] = m.offset }
            }
        }
        return values
    }

    func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// Contract-shaped messages for the sandbox: each episode is a card's four ordinary payments, then a burst at a risky
/// merchant that Vigil would alert on.
struct SandboxFeeder {
    struct Message {
        var topic: String
        var key: String
        var value: [UInt8]
    }

    let runId: String
    var serial = 0
    var random = SystemRandomNumberGenerator()

    init(runId: String) {
        self.runId = runId
    }

    mutating func nextId() -> String {
        serial += 1
        return "tx-\(runId)-\(serial)"
    }

    mutating func episode(nowMs: Int64) -> ([Message], ConsoleAlert) {
        let card = "card-" + String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random))
        var messages: [Message] = []
        for i in 0..<4 {
            let amount = Double(Int.random(in: 800...6000, using: &random)) / 100
            let time = nowMs - Int64(4 - i) * 3_600_000 * 20 - Int64.random(in: 0...600_000, using: &random)
            messages += payment(card: card, merchant: "m-\(Int.random(in: 1000...1400, using: &random))", mcc: "5411",
                amount: amount, timeMs: time, score: Double.random(in: 0.01...0.1, using: &random), verdict: "approve", reasons: [])
        }
        let block = Bool.random(using: &random)
        let score = block ? Double.random(in: 0.9...0.999, using: &random) : Double.random(in: 0.55...0.85, using: &random)
        let reasons: [ConsoleAlert.Reason] = [
            .init(feature: "count_1m", contribution: (Double.random(in: 2...4.5, using: &random) * 100).rounded() / 100),
            .init(feature: "high_risk_mcc", contribution: 2.0),
            .init(feature: "amount_vs_avg", contribution: (Double.random(in: 0.5...1.9, using: &random) * 100).rounded() / 100),
        ]
        let amount = Double(Int.random(in: 20_000...90_000, using: &random)) / 100
        messages += payment(card: card, merchant: "m-\(Int.random(in: 7000...7010, using: &random))", mcc: "7995", amount: amount,
            timeMs: nowMs - 2000, score: score, verdict: block ? "block" : "review", reasons: reasons)
        let last = messages.last { $0.topic == "fraud.alerts" }!
        return (messages, ConsoleAlert.decode(last.value)!)
    }

    /// Old feature records of other cards for `vigil train`: mostly genuine (mature, unlabelled), every tenth a
    /// fraud at a risky merchant with a schema-1 label, as a chargeback system reports it a few days later.
    mutating func history(_ count: Int, nowMs: Int64) -> [Message] {
        var messages: [Message] = []
        for i in 0..<count {
            let card = "card-" + String(format: "%08x", UInt32.random(in: 0...UInt32.max, using: &random))
            let time = nowMs - Int64.random(in: 40 * 86_400_000...60 * 86_400_000, using: &random)
            let fraud = i % 10 == 9
            messages += payment(card: card, merchant: "m-\(Int.random(in: 1000...1400, using: &random))", mcc: fraud ? "7995" : "5411",
                amount: Double(Int.random(in: 500...9000, using: &random)) / 100 * (fraud ? 20 : 1), timeMs: time,
                score: Double.random(in: 0.01...0.2, using: &random), verdict: fraud ? "review" : "approve",
                reasons: fraud ? [.init(feature: "high_risk_mcc", contribution: 2.0)] : [], alert: false)
            if fraud, let id = messages.last(where: { $0.topic == "fraud.features" })?.key {
                let label = "{\"schema_version\":1,\"transaction_id\":\"\(id)\",\"is_fraud\":true,\"reported_at_ms\":\(time + 3 * 86_400_000)}"
                messages.append(Message(topic: "fraud.labels", key: id, value: Array(label.utf8)))
            }
        }
        return messages
    }

    mutating func payment(
        card: String, merchant: String, mcc: String, amount: Double, timeMs: Int64, score: Double, verdict: String,
        reasons: [ConsoleAlert.Reason], alert raise: Bool = true
    ) -> [Message] {
        let id = nextId()
        let minor = Int64((amount * 100).rounded())
        var tx = JSONWriter()
        tx.beginObject()
        tx.key("schema_version"); tx.int(1)
        tx.key("transaction_id"); tx.string(id)
        tx.key("card_id"); tx.string(card)
        tx.key("amount_minor"); tx.int(minor)
        tx.key("currency"); tx.string("EUR")
        tx.key("merchant_id"); tx.string(merchant)
        tx.key("mcc"); tx.string(mcc)
        tx.key("country"); tx.string("DE")
        tx.key("channel"); tx.string(mcc == "7995" ? "ecom" : "pos")
        tx.key("event_time_ms"); tx.int(timeMs)
        tx.endObject()

        // The alert and the feature record as Vigil writes them (OutputEncoder), from a decision with these values.
        var vector = FeatureVector()
        vector[.amount] = amount
        vector[.secondsSinceLast] = verdict == "approve" ? 72_000 : 20
        vector[.amountVsAvg] = verdict == "approve" ? 1 : 9.5
        vector[.count1m] = verdict == "approve" ? 0 : 5
        vector[.count24h] = verdict == "approve" ? 1 : 7
        vector[.highRiskMcc] = mcc == "7995" ? 1 : 0
        vector[.cardNotPresent] = mcc == "7995" ? 1 : 0
        vector[.newMerchant24h] = 1
        let transaction = Transaction(
            transactionId: id, cardId: card, amountMinor: minor, currency: CurrencyCode("EUR")!, merchantId: merchant,
            mcc: UInt16(mcc)!, country: CountryCode("DE")!, channel: mcc == "7995" ? .ecom : .pos, location: nil,
            eventTimeMs: timeMs)
        let decision = Decision(
            transaction: transaction, features: vector,
            score: Score(value: score, verdict: Verdict.allCases.first { $0.name == verdict }!,
                         reasons: Reasons(reasons.compactMap { r in Feature(name: r.feature).map { ($0, r.contribution) } })),
            modelVersion: "sandbox-model", decidedAtMs: timeMs + 4)
        var encoder = OutputEncoder(catalog: .v2)
        var messages = [
            Message(topic: "transactions", key: card, value: tx.bytes),
            Message(topic: "fraud.features", key: id, value: encoder.featureRecord(decision)),
        ]
        if raise, decision.raisesAlert {
            messages.append(Message(topic: "fraud.alerts", key: card, value: encoder.decision(decision)))
        }
        return messages
    }
}
