import XCTest
@testable import Redis

final class SHA1Tests: XCTestCase {
    func testKnownVectors() {
        // FIPS 180-2 examples and the empty message.
        XCTAssertEqual(SHA1.hexDigest([]), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hexDigest(Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(
            SHA1.hexDigest(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
        XCTAssertEqual(
            SHA1.hexDigest(Array("The quick brown fox jumps over the lazy dog".utf8)),
            "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
        )
        XCTAssertEqual(
            SHA1.hexDigest([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
            "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
        )
    }

    func testPaddingBoundaries() {
        // Lengths around the 55/56/64-byte padding edges must all differ and be stable.
        let digests = (54...66).map { SHA1.hexDigest([UInt8](repeating: 0x61, count: $0)) }
        XCTAssertEqual(Set(digests).count, digests.count)
        XCTAssertEqual(SHA1.hexDigest([UInt8](repeating: 0x61, count: 64)), "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    func testScriptDigestIsOfUTF8Source() {
        XCTAssertEqual(RedisScript("return 1").sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
    }
}
