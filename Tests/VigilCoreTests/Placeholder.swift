import XCTest
final class PlaceholderVigilCoreTests: XCTestCase { func testNothing() {} }
