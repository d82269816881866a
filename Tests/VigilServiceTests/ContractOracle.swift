import Foundation
import Kafka
import VigilCore
import VigilService
import XCTest

/// What the contract says Vigil must emit for an input topic, computed independently of the pipeline: replays each
/// partition in offset order with `ReferenceFeatures` (the catalog's definitions over the full history) and its own
/// future-date and lateness bookkeeping. A card's history is what its partition saw (`P` is "earlier in partition
/// order"): a card published to two partitions has two histories.
struct ContractOracle {
    enum Expected {
        /// The features, the score, and the merchant-risk version the feature record must name (nil: "none").
        case decision(Transaction, FeatureVector, Score, String?)
        case late(Transaction)
        case dlq(RejectReason)
    }

    /// A merchant-risk snapshot as the contract defines it: the table the test published.
    struct MerchantTable {
        var version: String
        var totals: MerchantRiskCounts
        var merchants: [String: MerchantRiskCounts]
        /// Merchants whose value the test made unreadable: they get the no-snapshot defaults and records say "none".
        var unreadable: Set<String> = []

        /// The merchant features of a transaction at `merchantId`, and the version its record names (nil: "none").
        func served(_ merchantId: String) -> (features: MerchantRiskFeatures, version: String?) {
            if unreadable.contains(merchantId) { return (.noSnapshot, nil) }
            return (MerchantRiskFeatures(merchant: merchants[merchantId] ?? .zero, totals: totals), version)
        }
    }

    /// The snapshot a transaction was scored with (nil: none was served).
    typealias MerchantSnapshots = (Transaction) -> MerchantTable?

    var expected: [(message: KafkaMessage, outcome: Expected)] = []
    let catalog: FeatureCatalog

    /// `merchants`: the snapshot each transaction was scored with (nil: none; the merchant features are then the
    /// no-snapshot defaults and records name "none").
    init(input: [KafkaMessage], model: CompiledModel, config: FeatureConfig, catalog: FeatureCatalog = .v2,
         merchants: MerchantSnapshots? = nil) {
        self.catalog = catalog
        var histories: [CardKey: [Transaction]] = [:]
        var maxEvent: [Int32: Int64] = [:]
        // The records were published on this machine before Vigil read them, so each one's timestamp was behind the
        // wall clock when Vigil decided it: the contract's reference time is the timestamp.
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        for message in input {
            switch TransactionDecoder.decode(value: message.value, key: message.key) {
            case .failure(let reason):
                expected.append((message, .dlq(reason)))
            case .success(let tx):
                let reference = min(nowMs, message.timestampMs ?? nowMs)
                if tx.eventTimeMs > reference, tx.eventTimeMs - reference > config.maxFutureMs {
                    expected.append((message, .dlq(RejectReason.outOfRange("event_time_ms"))))
                    continue
                }
                if let m = maxEvent[message.partition], tx.eventTimeMs < m - config.outOfOrdernessMs - config.latenessMs {
                    expected.append((message, .late(tx)))
                    continue
                }
                let card = CardKey(partition: message.partition, cardId: tx.cardId)
                let served = catalog == .v2 ? merchants?(tx)?.served(tx.merchantId) : nil
                let features = ReferenceFeatures.compute(
                    tx, history: histories[card, default: []], config: config, merchant: served?.features ?? .noSnapshot)
                let version = served?.version
                expected.append((message, .decision(tx, features, model.score(features), version)))
                histories[card, default: []].append(tx)
                maxEvent[message.partition] = max(maxEvent[message.partition] ?? .min, tx.eventTimeMs)
            }
        }
    }

    /// Checks every output topic against the expectation. Returns the number of decisions checked.
    @discardableResult
    func check(
        decisions: [KafkaMessage], alerts: [KafkaMessage], features: [KafkaMessage], late: [KafkaMessage],
        dlq: [KafkaMessage], model: CompiledModel, allowIdenticalDuplicates: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) -> Int {
        func byTransaction(_ messages: [KafkaMessage]) -> [String: [KafkaMessage]] {
            Dictionary(grouping: messages) { json($0.value)["transaction_id"] as? String ?? "?" }
        }
        let decisionsById = byTransaction(decisions)
        let alertsById = byTransaction(alerts)
        let featuresById = byTransaction(features)
        let lateBySource = Dictionary(grouping: late) { header($0, "vigil.source") ?? "?" }
        let dlqBySource = Dictionary(grouping: dlq) { header($0, "vigil.source") ?? "?" }
        var decided = 0, lateCount = 0, dlqCount = 0, alertCount = 0
        /// A copy Kafka refused as it was: its body left out (and a key over 256 bytes), sizes and digests in headers.
        func checkDegraded(_ out: KafkaMessage, of message: KafkaMessage) {
            XCTAssertEqual(out.value, [], file: file, line: line)
            XCTAssertEqual(header(out, "vigil.original_bytes"), String(message.value.count), file: file, line: line)
            XCTAssertEqual(header(out, "vigil.original_sha256"), SHA256.hex(message.value), file: file, line: line)
            if let key = message.key, key.count > 256 {
                XCTAssertNil(out.key, file: file, line: line)
                XCTAssertEqual(header(out, "vigil.original_key_sha256"), SHA256.hex(key), file: file, line: line)
            } else {
                XCTAssertEqual(out.key, message.key, file: file, line: line)
            }
        }

        for (message, outcome) in expected {
            let source = "\(message.topic)/\(message.partition)/\(message.offset)"
            switch outcome {
            case .dlq(let reason):
                dlqCount += 1
                guard let out = dlqBySource[source], out.count == 1 || (allowIdenticalDuplicates && !out.isEmpty) else {
                    XCTFail("\(source): expected one DLQ message, got \(dlqBySource[source]?.count ?? 0)", file: file, line: line)
                    continue
                }
                if header(out[0], "vigil.error") == reason.code + ";body_omitted" {
                    checkDegraded(out[0], of: message)
                } else {
                    XCTAssertEqual(out[0].value, message.value, "DLQ keeps the original bytes", file: file, line: line)
                    XCTAssertEqual(out[0].key, message.key, "DLQ keeps the original key", file: file, line: line)
                    XCTAssertEqual(header(out[0], "vigil.error"), reason.code, file: file, line: line)
                }
            case .late(let tx):
                lateCount += 1
                guard let out = lateBySource[source], out.count == 1 || (allowIdenticalDuplicates && !out.isEmpty) else {
                    XCTFail("\(source): expected one late message, got \(lateBySource[source]?.count ?? 0)", file: file, line: line)
                    continue
                }
                if header(out[0], "vigil.error") == "body_omitted" {
                    // Kafka refused the late copy as it was (a produce request refused as too large): degraded.
                    checkDegraded(out[0], of: message)
                } else {
                    XCTAssertEqual(out[0].value, message.value, file: file, line: line)
                    XCTAssertEqual(out[0].key.map { String(decoding: $0, as: UTF8.self) }, tx.cardId, file: file, line: line)
                }
                XCTAssertNil(decisionsById[tx.transactionId], "a late transaction is not scored", file: file, line: line)
            case .decision(let tx, let f, let score, let merchantRiskVersion):
                decided += 1
                let single = { (m: [KafkaMessage]?) in m?.count == 1 || (allowIdenticalDuplicates && m?.isEmpty == false) }
                guard let d = decisionsById[tx.transactionId], single(d),
                      let r = featuresById[tx.transactionId], single(r) else {
                    XCTFail("\(tx.transactionId): expected one decision and one feature record, got "
                        + "\(decisionsById[tx.transactionId]?.count ?? 0) and \(featuresById[tx.transactionId]?.count ?? 0)",
                        file: file, line: line)
                    continue
                }
                let decision = json(d[0].value)
                let record = json(r[0].value)
                // Copies of one decision (at-least-once redelivery) must be identical but for decided_at_ms.
                for copy in d.dropFirst() {
                    var a = json(copy.value), b = decision
                    a["decided_at_ms"] = nil
                    b["decided_at_ms"] = nil
                    XCTAssertTrue(NSDictionary(dictionary: a).isEqual(to: b), "\(tx.transactionId): duplicate decisions differ",
                                  file: file, line: line)
                }
                for copy in r.dropFirst() {
                    XCTAssertTrue(NSDictionary(dictionary: json(copy.value)).isEqual(to: record),
                                  "\(tx.transactionId): duplicate feature records differ", file: file, line: line)
                }
                XCTAssertEqual(d[0].key, Array(tx.transactionId.utf8), file: file, line: line)
                XCTAssertEqual(decision["schema_version"] as? Int, 1, file: file, line: line)
                XCTAssertEqual(decision["card_id"] as? String, tx.cardId, file: file, line: line)
                XCTAssertEqual(decision["verdict"] as? String, score.verdict.name, "\(tx.transactionId)", file: file, line: line)
                XCTAssertEqual(decision["score"] as? Double ?? -1, score.value, accuracy: 1e-9, file: file, line: line)
                XCTAssertEqual(decision["model_version"] as? String, model.version, file: file, line: line)
                XCTAssertEqual((decision["event_time_ms"] as? NSNumber)?.int64Value, tx.eventTimeMs, file: file, line: line)
                XCTAssertNotNil(decision["decided_at_ms"] as? NSNumber, file: file, line: line)
                let reasons = decision["reasons"] as? [[String: Any]] ?? []
                XCTAssertEqual(reasons.count, score.reasons.count, file: file, line: line)
                for (i, reason) in reasons.enumerated() where i < score.reasons.count {
                    XCTAssertEqual(reason["feature"] as? String, score.reasons[i].feature.name, file: file, line: line)
                }
                // The feature record of the running catalog, field for field (docs/contract.md).
                var fields: Set<String> = [
                    "schema_version", "transaction_id", "card_id", "event_time_ms", "model_version", "score", "verdict",
                    "features",
                ]
                if catalog == .v2 { fields.formUnion(["catalog_version", "merchant_id", "merchant_risk_version"]) }
                XCTAssertEqual(Set(record.keys), fields, "\(tx.transactionId): feature record fields", file: file, line: line)
                XCTAssertEqual(record["schema_version"] as? Int, catalog.rawValue, file: file, line: line)
                XCTAssertEqual(record["transaction_id"] as? String, tx.transactionId, file: file, line: line)
                XCTAssertEqual((record["event_time_ms"] as? NSNumber)?.int64Value, tx.eventTimeMs, file: file, line: line)
                XCTAssertEqual(record["model_version"] as? String, model.version, file: file, line: line)
                XCTAssertEqual(record["score"] as? Double ?? -1, score.value, accuracy: 1e-9, file: file, line: line)
                if catalog == .v2 {
                    XCTAssertEqual(record["catalog_version"] as? Int, 2, file: file, line: line)
                    XCTAssertEqual(record["merchant_id"] as? String, tx.merchantId, file: file, line: line)
                    XCTAssertEqual(record["merchant_risk_version"] as? String, merchantRiskVersion ?? "none",
                                   "\(tx.transactionId)", file: file, line: line)
                }
                let values = record["features"] as? [String: Any] ?? [:]
                XCTAssertEqual(values.count, catalog.count, "every catalog feature is logged", file: file, line: line)
                for feature in catalog.features {
                    let got = (values[feature.name] as? NSNumber)?.doubleValue ?? .nan
                    XCTAssertEqual(got, f[feature], accuracy: abs(f[feature]) * 1e-9 + 1e-9,
                                   "\(tx.transactionId) \(feature.name)", file: file, line: line)
                }
                XCTAssertEqual(record["verdict"] as? String, score.verdict.name, file: file, line: line)
                XCTAssertEqual(record["card_id"] as? String, tx.cardId, file: file, line: line)
                if score.verdict == .approve {
                    XCTAssertNil(alertsById[tx.transactionId], "no alert for approve", file: file, line: line)
                } else {
                    alertCount += 1
                    XCTAssertTrue(single(alertsById[tx.transactionId]), "one alert per review/block", file: file, line: line)
                    XCTAssertEqual(alertsById[tx.transactionId]?.first?.key, Array(tx.cardId.utf8), file: file, line: line)
                    if !allowIdenticalDuplicates {
                        XCTAssertEqual(alertsById[tx.transactionId]?.first?.value, d[0].value, file: file, line: line)
                    }
                }
            }
        }
        // Nothing extra anywhere: every output corresponds to exactly one input.
        guard !allowIdenticalDuplicates else {
            XCTAssertEqual(Set(decisionsById.keys).count, decided, "decisions of unknown transactions", file: file, line: line)
            return decided
        }
        XCTAssertEqual(decisions.count, decided, "decisions", file: file, line: line)
        XCTAssertEqual(features.count, decided, "feature records", file: file, line: line)
        XCTAssertEqual(alerts.count, alertCount, "alerts", file: file, line: line)
        XCTAssertEqual(late.count, lateCount, "late", file: file, line: line)
        XCTAssertEqual(dlq.count, dlqCount, "dlq", file: file, line: line)
        return decided
    }
}
