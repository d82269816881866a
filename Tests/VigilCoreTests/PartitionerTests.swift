import VigilCore
import XCTest

/// The partitioners against published vectors: librdkafka's own unit and integration tests (whose murmur2 values
/// come from Kafka's Java client), Kafka-compatible clients' Java-compatibility tests, and the CRC-32 check value.
final class PartitionerTests: XCTestCase {
    func murmur2(_ s: String) -> UInt32 { Array(s.utf8).withUnsafeBytes { Partitioner.murmur2Hash($0) } }
    func crc32(_ s: String) -> UInt32 { Array(s.utf8).withUnsafeBytes { Partitioner.crc32Hash($0) } }

    func testMurmur2MatchesKafkasUtilsMurmur2() {
        // librdkafka src/rdmurmur2.c unittest_murmur2 ("java_murmur2_results"), every tail length.
        let unaligned = "PreAmbleWillBeRemoved,ThePrePartThatIs"
        let vectors: [(String, UInt32)] = [
            ("kafka", 0xd067_cf64), ("giberish123456789", 0x8f55_2b0c),
            ("1234", 0x9fc9_7b14), ("234", 0xe7c0_09ca), ("34", 0x8739_30da), ("4", 0x5a4b_5ca1),
            (unaligned, 0x7842_4f1c), (String(unaligned.dropFirst(1)), 0x4a62_b377),
            (String(unaligned.dropFirst(2)), 0xe0e4_e09e), (String(unaligned.dropFirst(3)), 0x62b8_b43f),
            ("", 0x106e_08d9),
        ]
        for (key, hash) in vectors { XCTAssertEqual(murmur2(key), hash, key) }
    }

    func testMurmur2PartitionsMatchJavasDefaultPartitioner() {
        // librdkafka tests/0048-partitioner.c ("murmur2", values from tests/java/Murmur2Cli), 7 and 17 partitions.
        let masked: [(String, UInt32)] = [
            ("", 0x106e_08d9), ("23456", 0x058d_780f),
            ("this is another string with more length to it perhaps", 0x4f77_03da), ("hejsan", 0x5ec1_9395),
        ]
        for n: Int32 in [7, 17] {
            for (key, value) in masked {
                XCTAssertEqual(Partitioner.murmur2.partition(of: Array(key.utf8), partitionCount: n), Int32(value % UInt32(n)), key)
            }
        }
        // Java's DefaultPartitioner with 1000 partitions (kafka-python's Java-compatibility test).
        let java: [([UInt8], Int32)] = [
            ([], 681), (Array("a".utf8), 524), (Array("ab".utf8), 434), (Array("abc".utf8), 107),
            (Array("123456789".utf8), 566), ([0, 32], 742),
        ]
        for (key, partition) in java { XCTAssertEqual(Partitioner.murmur2.partition(of: key, partitionCount: 1000), partition, "\(key)") }
    }

    func testCRC32MatchesLibrdkafkasConsistentPartitioner() {
        // librdkafka tests/0048-partitioner.c ("consistent"), plus the CRC-32 check value of "123456789".
        let vectors: [(String, UInt32)] = [
            ("", 0), ("23456", 0xb1b4_51d7), ("this is another string with more length to it perhaps", 0xb015_0df7),
            ("hejsan", 0xd077_037e), ("123456789", 0xcbf4_3926),
        ]
        for (key, hash) in vectors {
            XCTAssertEqual(crc32(key), hash, key)
            for n: Int32 in [7, 17] {
                XCTAssertEqual(Partitioner.crc32.partition(of: Array(key.utf8), partitionCount: n), Int32(hash % UInt32(n)), key)
            }
        }
        // Python's zlib.crc32 of a card token, as an independent implementation.
        XCTAssertEqual(crc32("card-7f3a9c"), 0xc6b3_cd2d)
    }

    func testOnePartitionIsAlwaysZero() {
        for key in ["a", "card-1", "hejsan"] {
            for p in Partitioner.allCases { XCTAssertEqual(p.partition(of: Array(key.utf8), partitionCount: 1), 0) }
        }
    }
}

final class PartitionerCheckTests: XCTestCase {
    let n: Int32 = 4

    /// Keys `card-i` that the two partitioners put on different partitions, with both partitions.
    func splitKeys(_ count: Int) -> [(key: [UInt8], murmur2: Int32, crc32: Int32)] {
        var keys: [(key: [UInt8], murmur2: Int32, crc32: Int32)] = []
        var i = 0
        while keys.count < count {
            let key = Array("card-\(i)".utf8)
            let m = Partitioner.murmur2.partition(of: key, partitionCount: n)
            let c = Partitioner.crc32.partition(of: key, partitionCount: n)
            if m != c { keys.append((key, m, c)) }
            i += 1
        }
        return keys
    }

    func testNamedPartitionerFlagsRecordsElsewhere() {
        var murmur2 = PartitionerCheck(mode: .murmur2, partitionCount: n)
        var crc32 = PartitionerCheck(mode: .crc32, partitionCount: n)
        for k in splitKeys(10) {
            XCTAssertEqual(murmur2.check(key: k.key, partition: k.murmur2), .consistent)
            XCTAssertEqual(murmur2.check(key: k.key, partition: k.crc32), .misrouted(expected: k.murmur2, partitioner: .murmur2))
            XCTAssertEqual(crc32.check(key: k.key, partition: k.crc32), .consistent)
            XCTAssertEqual(crc32.check(key: k.key, partition: k.murmur2), .misrouted(expected: k.crc32, partitioner: .crc32))
        }
        XCTAssertEqual(murmur2.expected, .murmur2)
        XCTAssertEqual(crc32.expected, .crc32)
    }

    func testAutoLearnsThePartitionerAfterTwentyTellingRecords() {
        var check = PartitionerCheck(mode: .auto, partitionCount: n)
        let keys = splitKeys(40)
        for (i, k) in keys.prefix(PartitionerCheck.learningThreshold).enumerated() {
            XCTAssertNil(check.expected, "no verdict after \(i) records")
            let outcome = check.check(key: k.key, partition: k.crc32)
            // The twentieth record decides, and is judged by what it decided.
            XCTAssertEqual(outcome, i + 1 < PartitionerCheck.learningThreshold ? .unchecked : .consistent)
        }
        XCTAssertEqual(check.expected, .crc32)
        XCTAssertEqual(check.onlyCRC32, 20)
        for k in keys.dropFirst(20).prefix(10) { XCTAssertEqual(check.check(key: k.key, partition: k.crc32), .consistent) }
        // A Java publisher joins: its records are misrouted against the learned crc32.
        for k in keys.suffix(10) {
            XCTAssertEqual(check.check(key: k.key, partition: k.murmur2), .misrouted(expected: k.crc32, partitioner: .crc32))
        }
        XCTAssertEqual(check.expected, .crc32, "30 crc32 records against 10 murmur2")
        XCTAssertEqual(check.onlyMurmur2, 10)
    }

    func testAutoDoesNotLearnFromRecordsBothOrNeitherPartitionerExplains() {
        var check = PartitionerCheck(mode: .auto, partitionCount: n)
        var i = 0
        var agreeing = 0
        var neither = 0
        while agreeing < 30 || neither < 30 {
            let key = Array("card-\(i)".utf8)
            i += 1
            let m = Partitioner.murmur2.partition(of: key, partitionCount: n)
            let c = Partitioner.crc32.partition(of: key, partitionCount: n)
            if m == c, agreeing < 30 {
                XCTAssertEqual(check.check(key: key, partition: m), .unchecked)
                agreeing += 1
            } else if m != c, neither < 30, let other = (0..<n).first(where: { $0 != m && $0 != c }) {
                XCTAssertEqual(check.check(key: key, partition: other), .unchecked)
                neither += 1
            }
        }
        XCTAssertNil(check.expected)
        XCTAssertEqual(check.onlyMurmur2 + check.onlyCRC32, 0)
    }

    func testAutoHasNoVerdictOnATie() {
        var check = PartitionerCheck(mode: .auto, partitionCount: n)
        for k in splitKeys(30) {
            _ = check.check(key: k.key, partition: k.murmur2)
            _ = check.check(key: k.key, partition: k.crc32)
        }
        XCTAssertEqual(check.onlyMurmur2, 30)
        XCTAssertEqual(check.onlyCRC32, 30)
        XCTAssertNil(check.expected)
    }

    func testNoneOnePartitionUnknownCountAndEmptyKeysAreUnchecked() {
        let k = splitKeys(1)[0]
        var none = PartitionerCheck(mode: .none, partitionCount: n)
        XCTAssertEqual(none.check(key: k.key, partition: k.crc32), .unchecked)
        XCTAssertNil(none.expected)
        var one = PartitionerCheck(mode: .murmur2, partitionCount: 1)
        XCTAssertEqual(one.check(key: k.key, partition: 0), .unchecked)
        var unknown = PartitionerCheck(mode: .murmur2)
        XCTAssertEqual(unknown.check(key: k.key, partition: k.crc32), .unchecked)
        unknown.update(partitionCount: n)
        XCTAssertEqual(unknown.check(key: k.key, partition: k.crc32), .misrouted(expected: k.murmur2, partitioner: .murmur2))
        XCTAssertEqual(unknown.check(key: [], partition: 0), .unchecked)
        XCTAssertEqual(unknown.check(key: k.key, partition: n), .unchecked, "a partition beyond stale metadata")
    }

    func testANewPartitionCountKeepsWhatAutoLearned() {
        var check = PartitionerCheck(mode: .auto, partitionCount: n)
        for k in splitKeys(25) { _ = check.check(key: k.key, partition: k.murmur2) }
        XCTAssertEqual(check.expected, .murmur2)
        check.update(partitionCount: 8)
        XCTAssertEqual(check.expected, .murmur2)
        let key = Array("card-x".utf8)
        let p = Partitioner.murmur2.partition(of: key, partitionCount: 8)
        XCTAssertEqual(check.check(key: key, partition: p), .consistent)
        XCTAssertEqual(check.check(key: key, partition: (p + 1) % 8), .misrouted(expected: p, partitioner: .murmur2))
    }
}
