import VigilCore
import XCTest
@testable import VigilTraining

final class HashAndTimeTests: XCTestCase {
    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testSHA256StreamingEqualsOneShot() {
        let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for split in [1, 63, 64, 65, 500] {
            var hasher = SHA256()
            var start = 0
            while start < message.count {
                let end = min(start + split, message.count)
                message[start..<end].withUnsafeBytes { hasher.update($0) }
                start = end
            }
            XCTAssertEqual(SHA256.hexString(hasher.finalize()), SHA256.hex(message), "split \(split)")
        }
    }

    func testTransactionKeysDiffer() {
        XCTAssertEqual(TransactionKey("tx-1"), TransactionKey("tx-1"))
        XCTAssertNotEqual(TransactionKey("tx-1"), TransactionKey("tx-2"))
        XCTAssertNotEqual(TransactionKey(""), TransactionKey("\0"))
        let keys = Set((0..<100_000).map { TransactionKey("tx-\($0)") })
        XCTAssertEqual(keys.count, 100_000)
    }

    func testUTCTime() {
        XCTAssertEqual(UTCTime.iso(0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(UTCTime.iso(1_764_000_000_000), "2025-11-24T16:00:00Z")
        XCTAssertEqual(UTCTime.version(1_795_572_000_000), "2026-11-25T02-00-00Z")
        XCTAssertEqual(UTCTime.iso(951_782_400_000), "2000-02-29T00:00:00Z")
        XCTAssertEqual(UTCTime.iso(-1000), "1969-12-31T23:59:59Z")
    }

    func testTransformParsing() {
        XCTAssertEqual(FeatureTransform("log1p"), .log1p)
        XCTAssertEqual(FeatureTransform("identity"), .identity)
        XCTAssertEqual(FeatureTransform("clip:0:2000"), .clip(min: 0, max: 2000))
        XCTAssertNil(FeatureTransform("clip:0"))
        XCTAssertNil(FeatureTransform("sqrt"))
        XCTAssertEqual(FeatureTransform.clip(min: 0, max: 1).apply(3), 1)
        XCTAssertEqual(FeatureTransform.log1p.apply(-5), 0)
    }
}
