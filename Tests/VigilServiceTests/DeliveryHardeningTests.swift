import Foundation
import Kafka
import VigilCore
import VigilService
import XCTest

/// Issue 9's delivery cases, against the real `vigil` binary, the mock cluster and redis-server: an oversized
/// message, a transaction coordinator down past the commit timeout, injected transactional errors, a Redis outage
/// with a rebalance in at-least-once mode, and SIGTERM while the broker is down.
final class DeliveryHardeningTests: XCTestCase {
    /// A valid-looking transaction padded to `bytes` (an unknown field), keyed by its card: `too_large` for the DLQ.
    func padded(_ id: String, bytes: Int, keyBytes: Int = 12) -> (key: [UInt8]?, value: [UInt8]) {
        let card = "card-" + String(repeating: "k", count: max(1, keyBytes - 5))
        let head = """
            {"schema_version":1,"transaction_id":"\(id)","card_id":"\(card)","amount_minor":1000,"currency":"EUR",\
            "merchant_id":"m-1","mcc":"5411","country":"DE","channel":"pos","event_time_ms":1764000000000,"pad":"
            """
        let value = Array(head.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: max(0, bytes - head.utf8.count - 2))
            + Array("\"}".utf8)
        return (Array(card.utf8), value)
    }

    /// Messages around Vigil's producer limit (`message.max.bytes`=100000 here), and far above it, with a key over
    /// the degraded copy's key limit for one, between normal traffic.
    func oversizedRun(mode: DeliveryMode) throws {
        let h = try Harness(partitions: 2)
        h.config.mode = mode
        let limit = 100_000
        let normal = traffic(count: 3000, seed: 91)
        let big = [
            padded("big-fits", bytes: limit - 2000),
            padded("big-at-limit-minus-10", bytes: limit - 10),
            padded("big-at-limit", bytes: limit),
            padded("big-above-limit", bytes: limit + 1),
            padded("big-3x", bytes: 3 * limit),
            padded("big-long-key", bytes: 2 * limit, keyBytes: 600),
        ]
        try h.publish(Array(normal[..<1000]) + big + Array(normal[1000...]), maxMessageBytes: 1_000_000)
        // Kafka refuses Vigil's first two produce requests as too large (what a topic's max.message.bytes does):
        // the copies in them go out degraded, Vigil's own outputs are produced again. (Injected after publishing:
        // the mock's injected errors hit whichever client asks next.)
        try h.cluster.pushRequestErrors(apiKey: 0, errors: [KafkaError.Code.messageSizeTooLarge, KafkaError.Code.messageSizeTooLarge])
        let vigil = try VigilProcess(h, name: "oversized-\(mode.rawValue)", extra: [
            "--kafka-property", "message.max.bytes=\(limit)",
        ])
        XCTAssertTrue(h.waitForApplied(normal.count + big.count, timeout: 90), "did not finish: \(vigil.log.suffix(3000))")
        XCTAssertNotNil(vigil.terminate())
        // Every input in exactly one place (the oracle accepts a copy without its body when its digest matches).
        try checkOutputs(h, allowIdenticalDuplicates: mode == .exactlyOnce)
        let dlq = try h.readAll(h.config.topics.dlq)
        func copy(_ id: String) -> KafkaMessage? {
            dlq.first { m in
                let source = big.first { String(decoding: $0.value, as: UTF8.self).contains("\"\(id)\"") }!
                return header(m, "vigil.original_sha256") == SHA256.hex(source.value) || m.value == source.value
            }
        }
        XCTAssertEqual(copy("big-fits")?.value.count, limit - 2000, "a copy that fits keeps its body")
        for id in ["big-at-limit", "big-above-limit", "big-3x", "big-long-key"] {
            let m = copy(id)
            XCTAssertEqual(m.flatMap { header($0, "vigil.error") }, "too_large;body_omitted", id)
            XCTAssertEqual(m?.value, [], id)
        }
        XCTAssertNil(copy("big-long-key")?.key, "a key over 256 bytes is left out too")
        XCTAssertTrue(vigil.log.contains("without their body"), vigil.log.suffix(2000).description)
    }

    func testOversizedMessagesEndInTheDLQWithoutStoppingThePartitionAtLeastOnce() throws {
        try oversizedRun(mode: .atLeastOnce)
    }

    func testOversizedMessagesEndInTheDLQWithoutStoppingThePartitionExactlyOnce() throws {
        try oversizedRun(mode: .exactlyOnce)
    }

    /// The transaction coordinator is down for longer than Kafka calls' 30 s timeout. A commit that timed out goes
    /// on in the background: Vigil calls commit again instead of aborting and producing the batch again, so every
    /// output appears once (on the mock, which shows aborted messages to every reader, a re-produced batch would
    /// show twice).
    func testACommitOutlastingItsTimeoutIsCalledAgainNotProducedTwice() throws {
        let h = try Harness(partitions: 2, brokers: 3)
        let transactionalId = "vigil-coordinator-test"
        // Partitions on brokers 1 and 2, the group's coordinator on 1, the transaction coordinator alone on 3.
        for topic in [h.config.topics.transactions] + h.config.topics.outputs + [h.config.topics.shadow] {
            for p in 0..<h.partitions { try h.cluster.setPartitionLeader(topic: topic, partition: p, brokerId: 1 + p % 2) }
        }
        try h.cluster.setCoordinator(type: "group", key: h.config.group, brokerId: 1)
        try h.cluster.setCoordinator(type: "transaction", key: transactionalId, brokerId: 3)
        let input = traffic(count: 4000, seed: 92)
        try h.publish(Array(input[..<2000]))
        let vigil = try VigilProcess(h, name: "coordinator", extra: ["--transactional-id", transactionalId])
        XCTAssertTrue(h.waitForApplied(2000), "no progress: \(vigil.log.suffix(3000))")
        try h.cluster.setBrokerDown(3)
        try h.publish(Array(input[2000...]))
        Thread.sleep(forTimeInterval: 36)
        try h.cluster.setBrokerUp(3)
        XCTAssertTrue(h.waitForApplied(input.count, timeout: 120), "did not finish: \(vigil.log.suffix(3000))")
        XCTAssertNotNil(vigil.terminate())
        try checkOutputs(h)
    }

    /// Errors injected on every transactional request. Retriable ones are retried by librdkafka or by Vigil, never
    /// by producing the batch again: every output once. Then a fatal one on EndTxn (the producer fenced while
    /// committing): the producer is rebuilt and the group's committed offsets decide whether the batch landed
    /// before anything is produced again.
    func testTransactionalErrorsAreHandledAsLibrdkafkaDocumentsThem() throws {
        let h = try Harness(partitions: 2)
        let input = traffic(count: 6000, seed: 93)
        // InitProducerId (22) fails twice at start: init_transactions retries.
        try h.cluster.pushRequestErrors(apiKey: 22, errors: [14, 15])  // COORDINATOR_LOAD_IN_PROGRESS, _NOT_AVAILABLE
        try h.publish(Array(input[..<1500]))
        let vigil = try VigilProcess(h, name: "txn-errors")
        XCTAssertTrue(h.waitForApplied(1500), "no progress: \(vigil.log.suffix(3000))")
        try h.cluster.pushRequestErrors(apiKey: 24, errors: [51, 51])  // AddPartitionsToTxn: CONCURRENT_TRANSACTIONS
        try h.cluster.pushRequestErrors(apiKey: 25, errors: [15])  // AddOffsetsToTxn: COORDINATOR_NOT_AVAILABLE
        try h.cluster.pushRequestErrors(apiKey: 28, errors: [14])  // TxnOffsetCommit: COORDINATOR_LOAD_IN_PROGRESS
        try h.cluster.pushRequestErrors(apiKey: 26, errors: [16, 51])  // EndTxn: NOT_COORDINATOR, CONCURRENT_TRANSACTIONS
        try h.publish(Array(input[1500..<3000]))
        XCTAssertTrue(h.waitForApplied(3000), "did not finish the retriable part: \(vigil.log.suffix(3000))")
        let retriableOnly = try checkOutputs(h)
        XCTAssertGreaterThan(retriableOnly, 0)
        // A fatal error on EndTxn: rebuilt, then checked against the committed offsets.
        try h.cluster.pushRequestErrors(apiKey: 26, errors: [KafkaError.Code.producerFenced])
        try h.cluster.pushRequestErrors(apiKey: 0, errors: [6])  // Produce: NOT_LEADER_FOR_PARTITION
        try h.publish(Array(input[3000...]))
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(vigil.log.suffix(3000))")
        XCTAssertNotNil(vigil.terminate())
        XCTAssertTrue(vigil.log.contains("checked against the committed offsets"), vigil.log.suffix(4000).description)
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    /// At-least-once, Redis dies while batches are emitted but not yet stored, and a second instance joins during
    /// the outage. The emitted batches' offsets are in the group's commits, so whoever owns a partition next
    /// replays them into the state without emitting them again: no duplicate without a crash.
    func testAtLeastOnceRepeatsNothingAfterARedisOutageAndARebalance() throws {
        let h = try Harness(partitions: 4, persistentRedis: true)
        h.config.mode = .atLeastOnce
        h.config.batchSize = 100
        let input = traffic(count: 16_000, seed: 94)
        try h.publish(input)
        let first = try VigilProcess(h, name: "outage-rebalance-a")
        XCTAssertTrue(h.waitForApplied(3000), "no progress: \(first.log.suffix(2000))")
        h.redis.kill()
        let second = try VigilProcess(h, name: "outage-rebalance-b")
        XCTAssertTrue(second.waitForLog("partitions assigned", timeout: 45), "second instance got partitions: \(second.log.suffix(2000))")
        Thread.sleep(forTimeInterval: 1)
        try h.redis.restart(keepData: true)
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(first.log.suffix(3000)) \(second.log.suffix(3000))")
        XCTAssertNotNil(second.terminate())
        XCTAssertNotNil(first.terminate())
        try checkOutputs(h)
    }

    /// SIGTERM while the broker is down: the stop is bounded (default 20 s) instead of waiting out every Kafka
    /// timeout; a successor processes what was not stored, as after a crash.
    func testSigtermWhileTheBrokerIsDownExitsWithinTheBound() throws {
        let h = try Harness()
        h.config.mode = .atLeastOnce
        h.config.batchSize = 100
        let input = traffic(count: 12_000, seed: 95)
        try h.publish(input)
        let vigil = try VigilProcess(h, name: "bounded-stop")
        XCTAssertTrue(h.waitForApplied(1000), "no progress: \(vigil.log.suffix(2000))")
        // The broker goes away while batches are being emitted: their acknowledgements never come.
        try h.cluster.setBrokerDown(1)
        Thread.sleep(forTimeInterval: 1)
        XCTAssertLessThan(h.appliedCount(), Int64(input.count), "the stop must find work in flight")
        let seconds = vigil.terminate(limit: 90)
        XCTAssertNotNil(seconds, "vigil did not exit within 90 s of SIGTERM")
        XCTAssertLessThan(seconds ?? 99, 21.5, "the stop took longer than its bound: \(vigil.log.suffix(2000))")
        try h.cluster.setBrokerUp(1)
        let next = try VigilProcess(h, name: "bounded-stop-next")
        XCTAssertTrue(h.waitForApplied(input.count), "did not finish: \(next.log.suffix(3000))")
        XCTAssertNotNil(next.terminate())
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }
}
