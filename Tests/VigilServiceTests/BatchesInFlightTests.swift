import XCTest

@testable import VigilService

/// `BatchesInFlight` transition by transition: stages in order, a failure stops every later emit or store, and
/// everything unfinished is retried together.
final class BatchesInFlightTests: XCTestCase {
    func testABatchGoesThroughEveryStageAndIsRemovedOnceStored() {
        var b = BatchesInFlight()
        b.handOver(1)
        XCTAssertEqual(b.phase(of: 1), .encoding)
        XCTAssertEqual(b.startEmit(1), .run)
        XCTAssertEqual(b.phase(of: 1), .emitting)
        XCTAssertEqual(b.emitEnded(1, ok: true), .handOn)
        XCTAssertEqual(b.phase(of: 1), .storing)
        XCTAssertEqual(b.startStore(1), .run)
        XCTAssertEqual(b.storeEnded(1, ok: true), .finish)
        XCTAssertEqual(b.phase(of: 1), .stored)
        XCTAssertEqual(b.removeOldestStored(), 1)
        XCTAssertTrue(b.isEmpty)
        XCTAssertNil(b.removeOldestStored())
    }

    func testStoredBatchesAreRemovedOldestFirstOnly() {
        var b = BatchesInFlight()
        for s in 1...3 { b.handOver(s) }
        for s in [1, 2] {
            _ = b.startEmit(s)
            _ = b.emitEnded(s, ok: true)
        }
        _ = b.startStore(2)  // out of order cannot happen on a serial queue, but the prefix rule holds anyway
        _ = b.storeEnded(2, ok: true)
        XCTAssertNil(b.removeOldestStored(), "batch 1 is not stored yet")
        _ = b.startStore(1)
        _ = b.storeEnded(1, ok: true)
        XCTAssertEqual(b.removeOldestStored(), 1)
        XCTAssertEqual(b.removeOldestStored(), 2)
        XCTAssertNil(b.removeOldestStored())
        XCTAssertEqual(b.count, 1)
    }

    func testAFailedEmitAbandonsEveryLaterEmitAndTheirRetryIsTogether() {
        var b = BatchesInFlight()
        for s in 1...3 { b.handOver(s) }
        XCTAssertEqual(b.startEmit(1), .run)
        XCTAssertEqual(b.emitEnded(1, ok: false), .finish)
        XCTAssertEqual(b.phase(of: 1), .failed(.emit))
        XCTAssertTrue(b.emitStopped)
        XCTAssertEqual(b.startEmit(2), .finish)
        XCTAssertEqual(b.phase(of: 2), .abandoned(.emit))
        XCTAssertEqual(b.startEmit(3), .finish)
        XCTAssertEqual(b.settle(), [1, 2, 3])
        XCTAssertFalse(b.emitStopped, "stages run again after settling")
        b.handOver(4)
        XCTAssertEqual(b.startEmit(4), .run)
    }

    func testAFailedStoreAbandonsLaterStoresButNotTheirEmits() {
        var b = BatchesInFlight()
        for s in 1...2 { b.handOver(s) }
        _ = b.startEmit(1)
        _ = b.emitEnded(1, ok: true)
        _ = b.startStore(1)
        XCTAssertEqual(b.storeEnded(1, ok: false), .finish)
        XCTAssertTrue(b.storeStopped)
        XCTAssertEqual(b.startEmit(2), .run, "emits go on: their outputs are remembered as emitted")
        XCTAssertEqual(b.emitEnded(2, ok: true), .handOn)
        XCTAssertEqual(b.startStore(2), .finish)
        XCTAssertEqual(b.phase(of: 2), .abandoned(.store))
        XCTAssertEqual(b.settle(), [1, 2])
    }

    func testSettleKeepsStoredBatchesOutOfTheRetry() {
        var b = BatchesInFlight()
        for s in 1...2 { b.handOver(s) }
        _ = b.startEmit(1)
        _ = b.emitEnded(1, ok: true)
        _ = b.startStore(1)
        _ = b.storeEnded(1, ok: true)
        _ = b.startEmit(2)
        _ = b.emitEnded(2, ok: false)
        XCTAssertEqual(b.settle(), [2])
        XCTAssertTrue(b.isEmpty)
    }

    func testPhasesSayWhenABatchIsDone() {
        XCTAssertFalse(BatchesInFlight.Phase.encoding.isDone)
        XCTAssertFalse(BatchesInFlight.Phase.emitting.isDone)
        XCTAssertFalse(BatchesInFlight.Phase.storing.isDone)
        XCTAssertTrue(BatchesInFlight.Phase.stored.isDone)
        XCTAssertTrue(BatchesInFlight.Phase.failed(.emit).isDone)
        XCTAssertTrue(BatchesInFlight.Phase.abandoned(.store).isDone)
    }
}
