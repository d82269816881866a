import XCTest
final class PlaceholderRedisTests: XCTestCase { func testNothing() {} }
