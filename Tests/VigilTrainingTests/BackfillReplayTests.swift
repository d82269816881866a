import VigilCore
import VigilTraffic
import XCTest
@testable import VigilTraining

final class BackfillReplayTests: XCTestCase {
    func snapshot(cutMs: Int64, merchant: String = "m-1") -> MerchantRiskSnapshot {
        MerchantRiskSnapshot(
            cut: MerchantRiskCut(cutMs: cutMs, labelDelayMs: 0),
            merchants: [(merchant, MerchantRiskCounts(
                transactions1d: 10, transactions7d: 50, transactions30d: 200, frauds1d: 1, frauds7d: 2, frauds30d: 5))])
    }

    func testTheTimelineServesTheNewestSnapshotPublishedBeforeTheEvent() {
        let a = snapshot(cutMs: 1000), b = snapshot(cutMs: 2000), c = snapshot(cutMs: 3000)
        let timeline = MerchantRiskTimeline([c, a, b], publishDelayMs: 100)
        XCTAssertNil(timeline.served(atMs: 1099), "before the first was published")
        XCTAssertEqual(timeline.served(atMs: 1100)?.version, a.version)
        XCTAssertEqual(timeline.served(atMs: 2099)?.version, a.version)
        XCTAssertEqual(timeline.served(atMs: 2100)?.version, b.version)
        XCTAssertEqual(timeline.served(atMs: 1_000_000)?.version, c.version)
        XCTAssertEqual(MerchantRiskTimeline([]).served(atMs: 5000)?.version, nil)
    }

    func model() throws -> CompiledModel {
        let file = ModelFile(
            version: "t", features: [ModelFile.Term(name: "amount", transform: "log1p", mean: 3, std: 1, weight: 0.5)],
            bias: -4, thresholds: .init(review: 0.5, block: 0.9))
        return try CompiledModel(file)
    }

    func tx(_ id: Int, card: String, timeMs: Int64) -> [UInt8] {
        Array("""
            {"schema_version":1,"transaction_id":"tx-\(id)","card_id":"\(card)","amount_minor":1000,"currency":"EUR",\
            "merchant_id":"m-1","mcc":"5411","country":"DE","channel":"pos","event_time_ms":\(timeMs)}
            """.utf8)
    }

    func testTheReplayMatchesTheScoringStepRecordForRecordAndKeepsPartitionsApart() throws {
        let config = FeatureConfig()
        var replay = BackfillReplay(config: config, catalog: .v2, model: try model())
        // The same card on two partitions has two histories (the service's state is per partition).
        let step = ScoringStep(config: config)
        var states: [Int32: CardState] = [0: CardState(), 1: CardState()]
        var clocks: [Int32: PartitionClock] = [0: PartitionClock(), 1: PartitionClock()]
        var encoder = OutputEncoder(catalog: .v2)
        for i in 0..<40 {
            let partition = Int32(i % 3 == 0 ? 1 : 0)
            let value = tx(i, card: "card-a", timeMs: 1_764_000_000_000 + Int64(i) * 60_000)
            var emitted: [UInt8]?
            try value.withUnsafeBytes { bytes in
                try replay.process(value: bytes, key: Array("card-a".utf8), partition: partition, timestampMs: nil, nowMs: 1_800_000_000_000) { record, id in
                    XCTAssertEqual(id, "tx-\(i)")
                    emitted = Array(record)
                }
            }
            guard case .success(let t) = TransactionDecoder.decode(value: value, key: Array("card-a".utf8)),
                case .decided(let d) = step.process(t, state: &states[partition]!, clock: &clocks[partition]!, model: try model(), nowMs: 0, referenceMs: 1_800_000_000_000)
            else { return XCTFail("not decided") }
            XCTAssertEqual(emitted, encoder.featureRecord(d), "record \(i)")
        }
        XCTAssertEqual(replay.counts.decided, 40)
        XCTAssertEqual(replay.cardsHeld, 2, "one card, two partitions")
    }

    func testArchivedLinesNeedNoKeyButMessagesDo() throws {
        var replay = BackfillReplay(config: FeatureConfig(), catalog: .v1, model: try model())
        let value = tx(1, card: "card-a", timeMs: 1_764_000_000_000)
        let fromTopic = value.withUnsafeBytes { replay.process(value: $0, key: nil, partition: 0, timestampMs: nil, nowMs: 1_800_000_000_000) { _, _ in } }
        XCTAssertEqual(fromTopic, .rejected("key_mismatch"))
        let archived = value.withUnsafeBytes {
            replay.process(value: $0, key: nil, partition: nil, timestampMs: nil, nowMs: 1_800_000_000_000) { _, _ in }
        }
        XCTAssertEqual(archived, .decided)
        // Archive lines are placed by card_id, as a keyed publisher places them: one card, one partition.
        var spread = BackfillReplay(config: FeatureConfig(), catalog: .v1, model: try model(), archivePartitioner: .crc32, archivePartitions: 4)
        for i in 0..<8 {
            let card = "card-\(i % 4)"
            _ = tx(i, card: card, timeMs: 1_764_000_000_000 + Int64(i)).withUnsafeBytes {
                spread.process(value: $0, key: nil, partition: nil, timestampMs: nil, nowMs: 1_800_000_000_000) { _, _ in }
            }
            XCTAssertEqual(spread.archivePartition(of: card), Partitioner.crc32.partition(of: Array(card.utf8), partitionCount: 4))
        }
        XCTAssertEqual(spread.cardsHeld, 4, "each card in one partition")
    }

    func testCardsIdleLongerThanTheStateTTLAreForgotten() throws {
        var replay = BackfillReplay(config: FeatureConfig(), catalog: .v1, model: try model(), stateTTLMs: 86_400_000)
        let day: Int64 = 86_400_000, start: Int64 = 1_764_000_000_000
        for (i, (card, t)) in [("card-a", start), ("card-b", start + day / 2), ("card-c", start + 2 * day)].enumerated() {
            let value = tx(i, card: card, timeMs: t)
            _ = value.withUnsafeBytes { replay.process(value: $0, key: Array(card.utf8), partition: 0, timestampMs: nil, nowMs: start + 10 * day) { _, _ in } }
        }
        XCTAssertEqual(replay.cardsHeld, 3)
        replay.sweep()
        // card-a's newest event is 2 days behind the partition's newest, card-b's 1.5 days: both beyond 1 day.
        XCTAssertEqual(replay.cardsHeld, 1)
        XCTAssertEqual(replay.counts.cardsForgotten, 2)
    }

    func testExpiryFollowsTheRecordsKafkaTimestampsLikeTheServicesWallClock() throws {
        // Event time runs 10 days between the two records, but they were published a minute apart (a compressed
        // replay, or the demo): the service's Redis key did not expire, so the card is kept.
        var replay = BackfillReplay(config: FeatureConfig(), catalog: .v1, model: try model(), stateTTLMs: 86_400_000)
        let day: Int64 = 86_400_000, start: Int64 = 1_764_000_000_000, published: Int64 = 1_790_000_000_000
        for (i, (t, ts)) in [(start, published), (start + 10 * day, published + 60_000)].enumerated() {
            let value = tx(i, card: "card-a", timeMs: t)
            _ = value.withUnsafeBytes { replay.process(value: $0, key: Array("card-a".utf8), partition: 0, timestampMs: ts, nowMs: published + day) { _, _ in } }
        }
        XCTAssertEqual(replay.counts.cardsForgotten, 0)
        // Published two days after the last write: expired, the card starts afresh.
        let value = tx(3, card: "card-a", timeMs: start + 11 * day)
        _ = value.withUnsafeBytes { replay.process(value: $0, key: Array("card-a".utf8), partition: 0, timestampMs: published + 2 * day + 60_000, nowMs: published + 3 * day) { _, _ in } }
        XCTAssertEqual(replay.counts.cardsForgotten, 1)
        XCTAssertEqual(replay.cardsHeld, 1)
    }
}
