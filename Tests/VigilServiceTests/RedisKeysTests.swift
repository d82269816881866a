import Redis
import XCTest

@testable import VigilService

final class RedisKeysTests: XCTestCase {
    func testEveryPartitionTagHashesToItsTargetSlot() {
        var seen = Set<String>()
        for partition in Int32(0)..<64 {
            let tag = PartitionTag.tag(partition)
            XCTAssertTrue(tag.hasPrefix("p\(partition)."), tag)
            XCTAssertEqual(RedisSlot.slot(ofKey: Array(tag.utf8)), PartitionTag.targetSlot(partition), tag)
            XCTAssertTrue(seen.insert(tag).inserted)
        }
        XCTAssertEqual(RedisSlot.crc16(Array("123456789".utf8)[...]), 0x31C3)
        XCTAssertEqual((0..<4).map { PartitionTag.targetSlot(Int32($0)) }, [0, 8192, 4096, 12288])
    }

    /// What `redis-cli --cluster create` makes of 3 masters: equal contiguous slot ranges.
    func testPartitionsSpreadEvenlyOverEqualSlotRanges() {
        func spread(partitions: Int, masters: Int) -> [Int] {
            var counts = [Int](repeating: 0, count: masters)
            for p in 0..<partitions {
                counts[PartitionTag.targetSlot(Int32(p)) * masters / RedisSlot.count] += 1
            }
            return counts
        }
        for (partitions, masters) in [(20, 3), (12, 3), (64, 3), (20, 5), (100, 6), (6, 3)] {
            let counts = spread(partitions: partitions, masters: masters)
            let ideal = Double(partitions) / Double(masters)
            for count in counts {
                // Within 25 % of an equal share, plus rounding (a random slot per partition would often be further).
                XCTAssertLessThanOrEqual(abs(Double(count) - ideal), ideal * 0.25 + 1, "\(partitions) over \(masters): \(counts)")
            }
        }
    }

    func testEveryKeyOfOnePartitionSharesItsSlot() {
        let keys = RedisKeys(prefix: "vigil")
        for partition in Int32(0)..<8 {
            let slot = RedisSlot.slot(ofKey: Array(keys.partition(topic: "transactions", partition: partition).utf8))
            XCTAssertEqual(slot, PartitionTag.targetSlot(partition))
            XCTAssertEqual(RedisSlot.slot(ofKey: Array((keys.cardKeyPrefix(partition: partition) + "card-9").utf8)), slot)
            XCTAssertEqual(RedisSlot.slot(ofKey: Array(keys.probe(partition: partition).utf8)), slot)
        }
        let model = RedisSlot.slot(ofKey: Array(keys.modelJSON(slot: "active").utf8))
        XCTAssertEqual(RedisSlot.slot(ofKey: Array(keys.modelVersion(slot: "shadow").utf8)), model)
        let mrisk = RedisSlot.slot(ofKey: Array(keys.merchantRiskCurrent.utf8))
        XCTAssertEqual(RedisSlot.slot(ofKey: Array(keys.merchantRiskSnapshot(version: "v1").utf8)), mrisk)
    }

    func testCardsAreGroupedByPartitionInOrderOfFirstAppearance() {
        XCTAssertEqual(StateStore.groupsByPartition([3, 1, 3, 0, 1, 3]), [[0, 2, 5], [1, 4], [3]])
        XCTAssertEqual(StateStore.groupsByPartition([]), [])
    }

    func testAPrefixWithBracesIsRefused() {
        var config = VigilConfig()
        config.redisPrefix = "vi{g}il"
        XCTAssertThrowsError(try config.validate()) { error in
            XCTAssertTrue("\(error)".contains("braces"), "\(error)")
        }
    }

    func testRedisAddressesParse() {
        XCTAssertEqual(RedisAddressParsing.parse("127.0.0.1:7000"), RedisAddress(host: "127.0.0.1", port: 7000))
        XCTAssertEqual(RedisAddressParsing.parse(" [::1]:7001 "), RedisAddress(host: "::1", port: 7001))
        XCTAssertNil(RedisAddressParsing.parse("127.0.0.1"))
        XCTAssertNil(RedisAddressParsing.parse(":7000"))
        XCTAssertNil(RedisAddressParsing.parse("h:70000"))
    }
}
