import Kafka
import XCTest

@testable import VigilService

/// `TransactionRun` transition by transition: librdkafka's rules for the transactional API, and the one Vigil adds:
/// a batch whose commit may have landed is never produced again before that is settled.
final class TransactionRunTests: XCTestCase {
    typealias Step = TransactionRun.Step

    /// Runs `results` from a fresh run and returns the steps visited after each.
    func steps(_ results: [TransactionRun.Result]) -> (run: TransactionRun, steps: [Step]) {
        var run = TransactionRun()
        let steps = results.map { run.next(after: $0) }
        return (run, steps)
    }

    func testTheHappyPathBeginsProducesSendsOffsetsCommits() {
        let (run, visited) = steps([.succeeded, .succeeded, .succeeded, .succeeded])
        XCTAssertEqual(visited, [.produce, .sendOffsets, .commit, .emitted])
        XCTAssertEqual(run.transactionsBegun, 1)
        XCTAssertEqual(run.aborted, 0)
        XCTAssertFalse(run.commitMayHaveLanded)
        XCTAssertFalse(run.isOpen)
    }

    func testARetriableCommitIsCalledAgainNeverProducedAgain() {
        // A timed-out commit goes on in the background: calling commit again resumes it.
        let (run, visited) = steps([.succeeded, .succeeded, .succeeded, .failed(.retry), .failed(.retry), .succeeded])
        XCTAssertEqual(visited, [.produce, .sendOffsets, .commit, .commit, .commit, .emitted])
        XCTAssertEqual(run.transactionsBegun, 1, "the batch is produced once")
    }

    func testWhileACommitMayHaveLandedItStaysInCommit() {
        var run = TransactionRun()
        run.next(after: .succeeded)
        run.next(after: .succeeded)
        run.next(after: .succeeded)
        XCTAssertEqual(run.next(after: .failed(.retry)), .commit)
        XCTAssertTrue(run.commitMayHaveLanded)
        XCTAssertTrue(run.isOpen)
    }

    func testAnAbortableCommitIsAbortedThenTheBatchIsProducedAgain() {
        let (run, visited) = steps([.succeeded, .succeeded, .succeeded, .failed(.abort), .succeeded, .succeeded])
        XCTAssertEqual(visited, [.produce, .sendOffsets, .commit, .abort, .begin, .produce])
        XCTAssertEqual(run.aborted, 1)
        XCTAssertEqual(run.transactionsBegun, 2)
        XCTAssertFalse(run.commitMayHaveLanded)
    }

    func testAFatalCommitRebuildsTheProducerThenAsksTheCommittedOffsets() {
        var (run, visited) = steps([.succeeded, .succeeded, .succeeded, .failed(.fatal)])
        XCTAssertEqual(visited.last, .rebuildProducer)
        XCTAssertTrue(run.commitMayHaveLanded)
        XCTAssertEqual(run.next(after: .failed(.retry)), .rebuildProducer, "rebuilding is retried")
        XCTAssertEqual(run.next(after: .succeeded), .checkCommitted, "never produced again before it is settled")
        XCTAssertEqual(run.next(after: .failed(.retry)), .checkCommitted)
        XCTAssertEqual(run.next(after: .landed(true)), .emitted, "the commit landed: done, nothing produced again")
        XCTAssertEqual(run.transactionsBegun, 1)
        XCTAssertEqual(run.rebuilds, 1)
    }

    func testAFatalCommitThatDidNotLandIsProducedAgain() {
        var (run, _) = steps([.succeeded, .succeeded, .succeeded, .failed(.fatal), .succeeded])
        XCTAssertEqual(run.step, .checkCommitted)
        XCTAssertEqual(run.next(after: .landed(false)), .begin)
        XCTAssertFalse(run.commitMayHaveLanded)
    }

    func testAFatalErrorBeforeCommitRebuildsAndStartsOver() {
        for failing in 0..<3 {  // begin, produce, send offsets
            var results: [TransactionRun.Result] = Array(repeating: .succeeded, count: failing)
            results.append(.failed(.fatal))
            var (run, visited) = steps(results)
            XCTAssertEqual(visited.last, .rebuildProducer, "failing step \(failing)")
            XCTAssertFalse(run.commitMayHaveLanded)
            XCTAssertEqual(run.next(after: .succeeded), .begin, "no commit was called: start over")
        }
    }

    func testRetriableErrorsRepeatTheirStep() {
        XCTAssertEqual(steps([.failed(.retry)]).steps, [.begin])
        XCTAssertEqual(steps([.succeeded, .succeeded, .failed(.retry)]).steps.last, .sendOffsets)
        var (run, _) = steps([.succeeded, .succeeded, .succeeded, .failed(.abort)])
        XCTAssertEqual(run.next(after: .failed(.retry)), .abort, "a timed-out abort is called again")
        XCTAssertEqual(run.next(after: .failed(.fatal)), .rebuildProducer)
    }

    func testAbortableErrorsOfProduceAndSendOffsetsAbort() {
        XCTAssertEqual(steps([.succeeded, .failed(.abort)]).steps.last, .abort)
        XCTAssertEqual(steps([.succeeded, .failed(.retry)]).steps.last, .abort, "produce errors are not retried in place")
        XCTAssertEqual(steps([.succeeded, .succeeded, .failed(.abort)]).steps.last, .abort)
    }

    func testBeginFailingWithoutRetryRebuilds() {
        XCTAssertEqual(steps([.failed(.abort)]).steps, [.rebuildProducer])
        XCTAssertEqual(steps([.failed(.fatal)]).steps, [.rebuildProducer])
    }

    func testAnAbortAfterAMaybeLandedCommitSettlesIt() {
        // commit timed out (may land), then turned abortable: the abort settles it, the batch starts over.
        var (run, _) = steps([.succeeded, .succeeded, .succeeded, .failed(.retry), .failed(.abort)])
        XCTAssertEqual(run.step, .abort)
        XCTAssertEqual(run.next(after: .succeeded), .begin)
        XCTAssertFalse(run.commitMayHaveLanded)
    }

    func testErrorHandlingFollowsTheFlagsAndTreatsUnflaggedErrorsAsFatal() {
        func error(fatal: Bool = false, retriable: Bool = false, abort: Bool = false) -> KafkaError {
            KafkaError(code: 1, name: "X", message: "x", isFatal: fatal, isRetriable: retriable, txnRequiresAbort: abort)
        }
        XCTAssertEqual(error(retriable: true).transactionalHandling, .retry)
        XCTAssertEqual(error(abort: true).transactionalHandling, .abort)
        XCTAssertEqual(error(retriable: true, abort: true).transactionalHandling, .abort)
        XCTAssertEqual(error(fatal: true, retriable: true).transactionalHandling, .fatal)
        XCTAssertEqual(error().transactionalHandling, .fatal, "rdkafka.h: treat errors with no flag as fatal")
    }
}
