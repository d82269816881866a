import Foundation
import Kafka
import Logging
import VigilCore
import VigilService
import XCTest

/// Two deployments (consumer groups) configured with one Redis prefix (issue 9, item 6): the second refuses to
/// start, naming the first, which keeps deciding everything.
final class DeploymentTests: XCTestCase {
    func testASecondGroupOnTheSamePrefixRefusesToStartAndTheFirstKeepsDeciding() throws {
        let h = try Harness(partitions: 2)
        h.config.mode = .atLeastOnce
        let input = traffic(count: 3000, seed: 34)
        try h.publish(Array(input[..<1500]))
        let groupA = h.config.group
        let first = try VigilProcess(h, name: "deployment-a")
        XCTAssertTrue(h.waitForApplied(1500), "first deployment: \(first.log.suffix(2000))")

        h.config.group = "other-deployment"
        let second = try VigilProcess(h, name: "deployment-b")
        let deadline = Date().addingTimeInterval(30)
        while second.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        XCTAssertFalse(second.process.isRunning, "the second deployment keeps running: \(second.log.suffix(2000))")
        if !second.process.isRunning { XCTAssertNotEqual(second.process.terminationStatus, 0) }
        XCTAssertTrue(second.log.contains(
            "redis prefix 'vigil' belongs to consumer group '\(groupA)' on topic 'transactions'; "
                + "this instance is group 'other-deployment' on topic 'transactions': use another --redis-prefix"),
            second.log.suffix(2000).description)
        XCTAssertFalse(second.log.contains("partitions assigned"), "it claimed nothing")

        h.config.group = groupA
        try h.publish(Array(input[1500...]))
        XCTAssertTrue(h.waitForApplied(input.count), "the first deployment stopped deciding: \(first.log.suffix(3000))")
        XCTAssertNotNil(first.terminate())
        try checkOutputs(h)
    }

    func testAPipelineStopsWhenAnotherDeploymentTookThePrefix() async throws {
        // As after Redis lost this deployment's key and another one registered meanwhile: the claim is refused.
        let h = try Harness(partitions: 2)
        try StateStore(host: h.config.redisHost, port: h.config.redisPort, prefix: h.config.redisPrefix)
            .register(Deployment(group: "someone-else", topic: h.config.topics.transactions))
        try h.publish(traffic(count: 200, seed: 35))
        var logger = Logger(label: "vigil.test")
        logger.logLevel = .critical
        let pipeline = try Pipeline(config: h.config, models: try ModelHolder(path: h.config.modelPath), logger: logger)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            pipeline.requestStop()
        }
        defer { watchdog.cancel() }
        do {
            try await PipelineService(pipeline: pipeline).run()
            XCTFail("the pipeline ran on another deployment's prefix")
        } catch let halted as PipelineHalted {
            XCTAssertTrue(halted.reason.hasPrefix("redis prefix 'vigil' belongs to consumer group 'someone-else'"), halted.reason)
        }
        XCTAssertEqual(pipeline.stats.snapshot.processed, 0)
        XCTAssertEqual(pipeline.stats.snapshot.batches, 0)
    }
}
