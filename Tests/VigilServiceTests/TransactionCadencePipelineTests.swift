import Foundation
import Kafka
import VigilService
import XCTest

/// Exactly-once with several batches per transaction (`TransactionCadence`), with the real pipeline on the mock
/// cluster and redis-server: the batches of one transaction land together, an aborted one retries every batch it
/// carried, and whoever waits for the batches in flight (an empty poll, a rebalance, a stop) does not wait out the
/// cadence. (The mock shows aborted messages to every reader, so where a transaction is aborted identical duplicates
/// are allowed; the state side, features exact and nothing counted twice, is checked in full.)
final class TransactionCadencePipelineTests: XCTestCase {
    func testUnderLoadBatchesShareTransactionsAndEveryOutputIsOnce() throws {
        let h = try Harness(partitions: 2)
        h.config.batchSize = 20
        h.config.transactionIntervalMs = 100
        let input = traffic(count: 3000, seed: 95)
        try h.publish(input)
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count, timeout: 90))
        runner.stop()
        let s = runner.pipeline.stats.snapshot
        XCTAssertEqual(s.abortedTransactions, 0)
        XCTAssertEqual(s.batchesInTransactions, s.batches, "every stored batch was carried by a committed transaction")
        XCTAssertGreaterThan(s.batches, 100)
        XCTAssertLessThanOrEqual(s.committedTransactions * 4, s.batches, "a backlog fills transactions: \(s.committedTransactions) for \(s.batches) batches")
        try checkOutputs(h)
    }

    func testAnAbortedTransactionRetriesEveryBatchItCarried() throws {
        let h = try Harness(partitions: 2)
        h.config.batchSize = 20
        h.config.transactionIntervalMs = 100
        let input = traffic(count: 4000, seed: 96)
        try h.publish(Array(input[..<2000]))
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(2000, timeout: 90))
        // The next batch, after the idle pipeline, has a transaction of its own; the one after it carries the batches
        // held meanwhile: its EndTxn fails with an error librdkafka makes abortable (INVALID_REQUEST).
        try h.cluster.pushRequestErrors(apiKey: 26, errors: [0, 42])
        try h.publish(Array(input[2000...]))
        XCTAssertTrue(runner.waitForProcessed(input.count, timeout: 90))
        runner.stop()
        let s = runner.pipeline.stats.snapshot
        XCTAssertEqual(s.abortedTransactions, 1)
        XCTAssertEqual(s.processed, input.count, "every batch of the aborted transaction was retried and stored once")
        XCTAssertLessThanOrEqual(s.committedTransactions * 4, s.batches)
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    func testAbortsThatKeepComingFailTheBatchesToThePipelineWhichRetriesThem() throws {
        let h = try Harness(partitions: 2)
        h.config.batchSize = 20
        h.config.transactionIntervalMs = 100
        let input = traffic(count: 2000, seed: 98)
        try h.publish(Array(input[..<1000]))
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(1000, timeout: 90))
        // Seven commits in a row fail after one that succeeds (EndTxn serves commits and aborts: each abort's
        // succeeds): the emit stage gives up after five aborts (pausing between them), the pipeline retries the
        // batches, and two more aborts later they land.
        try h.cluster.pushRequestErrors(apiKey: 26, errors: [0] + (0..<7).flatMap { _ in [42, 0] })
        try h.publish(Array(input[1000...]))
        XCTAssertTrue(runner.waitForProcessed(input.count, timeout: 120))
        runner.stop()
        let s = runner.pipeline.stats.snapshot
        XCTAssertEqual(s.abortedTransactions, 7)
        XCTAssertGreaterThanOrEqual(s.retriedBatches, 1, "the emit stage failed the batches to the pipeline")
        XCTAssertEqual(s.processed, input.count)
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }

    func testARebalanceCommitsTheHeldBatchesBeforeHandingOver() throws {
        let h = try Harness(partitions: 4)
        h.config.batchSize = 20
        h.config.transactionIntervalMs = 300
        let input = traffic(count: 8000, seed: 97)
        try h.publish(Array(input[..<3000]))
        let first = try h.makePipeline()
        XCTAssertTrue(h.waitForApplied(1000))
        let second = try h.makePipeline()
        try h.publish(Array(input[3000..<6000]))
        XCTAssertTrue(waitUntil(timeout: 45) { second.pipeline.stats.snapshot.assignedPartitions > 0 }, "second got partitions")
        XCTAssertTrue(h.waitForApplied(6000))
        second.stop()
        try h.publish(Array(input[6000...]))
        XCTAssertTrue(h.waitForApplied(input.count))
        first.stop()
        let a = first.pipeline.stats.snapshot, b = second.pipeline.stats.snapshot
        XCTAssertGreaterThan(b.processed, 0)
        XCTAssertLessThan(a.committedTransactions, a.batches, "the first instance's batches shared transactions")
        // Handover is clean: together the two instances emitted each transaction once.
        try checkOutputs(h)
    }

    func testAnIdlePollBeginsTheHeldTransactionInsteadOfWaitingOutTheInterval() throws {
        let h = try Harness(partitions: 2)
        h.config.batchSize = 10
        h.config.transactionIntervalMs = 1000
        h.config.transactionMaxBatches = 64
        let input = traffic(count: 200, seed: 98)
        try h.publish(input)
        let runner = try h.makePipeline()
        // The first batch begins its transaction at once; the others are held (the next may begin only 1 s later)
        // until the poll after the backlog finds nothing and the pipeline thread waits for them.
        XCTAssertTrue(waitUntil(timeout: 60) { runner.pipeline.stats.snapshot.processed > 0 })
        let firstStored = Date()
        XCTAssertTrue(runner.waitForProcessed(input.count, timeout: 10))
        let rest = Date().timeIntervalSince(firstStored)
        runner.stop()
        XCTAssertLessThan(rest, 0.8, "the held batches waited for the interval")
        let s = runner.pipeline.stats.snapshot
        XCTAssertGreaterThanOrEqual(s.batches, 10)
        XCTAssertLessThanOrEqual(s.committedTransactions, 4)
        try checkOutputs(h)
    }
}
