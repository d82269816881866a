import XCTest
final class PlaceholderVigilTrafficTests: XCTestCase { func testNothing() {} }
