import Kafka
import Redis
import XCTest

@testable import VigilService

/// The state store on a real Redis Cluster (3 masters, 3 replicas): one MGET and one batch script per partition, each
/// on its partition's slot, and a batch whose partitions land apart when a node fails.
final class StateStoreClusterTests: XCTestCase {
    let deployment = Deployment(group: "g", topic: "transactions")

    func testPartitionsOnDifferentNodesAreLoadedAndWrittenPerSlotAndLandApartWhenANodeFails() throws {
        let cluster = try RedisClusterProcess.start(masters: 3, replicasPerMaster: 1, nodeTimeoutMs: 1000)
        defer { cluster.stop() }
        let store = StateStore(endpoint: cluster.seed, prefix: "vigil")
        // Partitions 0 and 1 sit on slots 0 and 8192: the first and second master's ranges.
        let p0 = TopicPartition(topic: "transactions", partition: 0)
        let p1 = TopicPartition(topic: "transactions", partition: 1)
        XCTAssertNotEqual(
            try cluster.master(ofSlot: PartitionTag.targetSlot(0)).port,
            try cluster.master(ofSlot: PartitionTag.targetSlot(1)).port)
        var records = [p0: try store.claimPartition(p0, for: deployment), p1: try store.claimPartition(p1, for: deployment)]
        XCTAssertEqual(records[p0]?.epoch, 1)

        func batch(_ applied: Int64, blob: UInt8) -> (updates: [PartitionUpdate], cards: [(card: CardKey, blob: [UInt8])]) {
            let updates = [p0, p1].map { tp in
                PartitionUpdate(
                    partition: tp, expected: records[tp]!,
                    updated: PartitionRecord(applied: applied, maxEventMs: 1000 + applied, epoch: records[tp]!.epoch))
            }
            let cards = [
                (CardKey(partition: 0, cardId: "card-a"), [blob]), (CardKey(partition: 1, cardId: "card-a"), [blob, 1]),
                (CardKey(partition: 0, cardId: "card-b"), [blob, 2]),
            ]
            return (updates, cards)
        }
        let first = batch(9, blob: 7)
        try store.write(partitions: first.updates, cards: first.cards, ttlMs: 60_000)
        for update in first.updates { records[update.partition] = update.updated }

        // One load over both partitions: the cards come back in the order asked, each from its own node.
        let card = { (s: String) in Array(s.utf8) }
        let pending = try store.startLoad(
            cards: [(1, card("card-a")), (0, card("card-b")), (0, card("card-a")), (1, card("card-z"))],
            verifying: [(p0, [records[p0]!]), (p1, [records[p1]!])])
        XCTAssertEqual(try store.finishLoad(pending), [[7, 1], [7, 2], [7], nil])

        // The second partition's master dies: the batch lands for the first partition only, and says so.
        try cluster.master(ofSlot: PartitionTag.targetSlot(1)).kill()
        let second = batch(19, blob: 8)
        XCTAssertThrowsError(try store.write(partitions: second.updates, cards: second.cards, ttlMs: 60_000)) { error in
            guard case StateStoreError.partial(let stored, let failure) = error else {
                return XCTFail("expected a partial write, got \(error)")
            }
            XCTAssertEqual(stored, [p0])
            guard case .redis = failure else { return XCTFail("the failure is the dead node's: \(failure)") }
        }
        XCTAssertEqual(try store.loadPartition(p0).applied, 19, "the partition on the live node was written")
        let reread = try store.startLoad(cards: [(0, card("card-a"))], verifying: [(p0, [second.updates[0].updated])])
        XCTAssertEqual(try store.finishLoad(reread), [[8]])
    }
}
