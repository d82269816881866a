import XCTest
@testable import VigilTraining
