import XCTest
final class PlaceholderVigilServiceTests: XCTestCase { func testNothing() {} }
