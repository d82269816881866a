import Foundation
import Kafka
import Redis
import VigilCore
@testable import VigilService
import XCTest

/// The owned-card cache in the real pipeline: it changes no output, to the bit, and it is dropped when Redis loses
/// what it held.
final class CardCacheIntegrationTests: XCTestCase {
    /// Each feature record's features, by transaction id.
    func features(_ h: Harness) throws -> [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        for message in try h.readAll(h.config.topics.features) {
            let record = json(message.value)
            out[record["transaction_id"] as! String] = (record["features"] as! [String: Any]).mapValues { ($0 as! NSNumber).doubleValue }
        }
        return out
    }

    func run(cacheBytes: Int, overlap: Bool, input: [(key: [UInt8]?, value: [UInt8])]) throws
        -> (features: [String: [String: Double]], fromCache: Int, fromRedis: Int)
    {
        let h = try Harness()
        h.config.mode = .atLeastOnce
        h.config.cardCacheBytes = cacheBytes
        h.config.overlapBatches = overlap
        h.config.batchSize = 100
        try h.publish(input)
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count), "processed \(runner.pipeline.stats.snapshot.processed)")
        runner.stop()
        try checkOutputs(h)
        let stats = runner.pipeline.stats.snapshot
        return (try features(h), stats.cardsFromCache, stats.cardsFromRedis)
    }

    func testTheCacheChangesNoFeatureToTheBit() throws {
        let input = traffic(count: 3000, seed: 31)
        let off = try run(cacheBytes: 0, overlap: true, input: input)
        XCTAssertEqual(off.fromCache, 0)
        XCTAssertGreaterThan(off.features.count, 2500)
        // One batch at a time, every busy card (`OwnedCardCache.minimumEvents`) comes from the cache after the batch
        // that made it busy (40 cards, each read from Redis until then); overlapping, fewer do (most come from the
        // batches still in flight).
        for overlap in [false, true] {
            let on = try run(cacheBytes: 64 << 20, overlap: overlap, input: input)
            if !overlap {
                XCTAssertLessThanOrEqual(on.fromRedis, 40 * OwnedCardCache.minimumEvents, "each card read until it is busy")
                XCTAssertGreaterThan(on.fromCache, on.fromRedis, "cards came from the cache")
            }
            XCTAssertEqual(off.features.count, on.features.count)
            for (id, values) in off.features where on.features[id] != values {
                XCTFail("\(id): \(values) without the cache, \(on.features[id] ?? [:]) with it (overlap \(overlap))")
                break
            }
        }
    }

    /// Redis loses everything while cards are cached: the pipeline notices (the partition records are gone), drops
    /// the cache and rebuilds from the log; every feature is still exact.
    func testRedisLosingItsDataDropsTheCache() throws {
        let h = try Harness()
        h.config.mode = .atLeastOnce
        h.config.overlapBatches = false  // so that cards come from the cache
        let input = traffic(count: 4000, seed: 32)
        try h.publish(Array(input[..<2000]))
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(2000))
        XCTAssertGreaterThan(runner.pipeline.stats.snapshot.cardsFromCache, 0)
        _ = try RedisConnection(host: h.redis.host, port: h.redis.port).send("FLUSHALL")
        try h.publish(Array(input[2000...]))
        let deadline = Date().addingTimeInterval(60)
        while runner.pipeline.stats.snapshot.repairs == 0 || runner.pipeline.stats.snapshot.positions.values.reduce(0, +) < Int64(input.count), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
        }
        runner.stop()
        XCTAssertGreaterThan(runner.pipeline.stats.snapshot.repairs, 0, "the lost state was rebuilt from the log")
        try checkOutputs(h, allowIdenticalDuplicates: true)
    }
}
