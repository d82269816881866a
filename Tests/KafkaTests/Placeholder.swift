import XCTest
final class PlaceholderKafkaTests: XCTestCase { func testNothing() {} }
