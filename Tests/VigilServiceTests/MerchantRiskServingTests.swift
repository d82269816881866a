import Foundation
import Kafka
import Redis
@testable import VigilService
import VigilCore
import XCTest

/// Catalog 2 on the hot path: real pipelines against librdkafka's mock cluster and a real redis-server, with
/// merchant-risk snapshots written into Redis by the test exactly as docs/merchant-risk.md lays them out, and every
/// output checked against the contract oracle.
final class MerchantRiskServingTests: XCTestCase {
    /// Two instances (one consumer group, one Redis) serve snapshot A; the test publishes B; both serve B within a
    /// poll interval, and every feature record names the snapshot its merchant features came from.
    func testTwoPipelinesSwitchToANewSnapshotWithinAPollInterval() throws {
        let h = try Harness()
        h.config.modelPollMs = 500
        let input = traffic(count: 2400, seed: 21)
        let merchants = Self.merchantIds(input)
        XCTAssertGreaterThan(merchants.count, 5)
        var rng = SystemRandomNumberGenerator()
        let a = Self.table("2026-11-23T00-00-00Z-aaaaaaaaaaaa", merchants: merchants, rng: &rng)
        let b = Self.table("2026-11-24T00-00-00Z-bbbbbbbbbbbb", merchants: merchants, rng: &rng)
        let redis = try RedisConnection(host: h.redis.host, port: h.redis.port)
        try Self.publish(a, prefix: h.config.redisPrefix, on: redis)

        let first = try h.makePipeline()
        let second = try h.makePipeline()
        defer { first.stop(); second.stop() }
        XCTAssertTrue(waitUntil(timeout: 60) {
            let (x, y) = (first.pipeline.stats.snapshot.assignedPartitions, second.pipeline.stats.snapshot.assignedPartitions)
            return x > 0 && y > 0 && x + y == Int(h.partitions)
        }, "both instances own partitions")
        XCTAssertEqual(first.pipeline.merchantRisk?.current?.version, a.version)
        XCTAssertEqual(second.pipeline.merchantRisk?.current?.version, a.version)

        try h.publish(Array(input[..<1200]))
        XCTAssertTrue(waitUntil(timeout: 60) { first.processed + second.processed >= 1200 })

        // Publish B: the hash first, then `current` (what the publisher's script does atomically).
        try Self.publish(b, prefix: h.config.redisPrefix, on: redis)
        let published = Date()
        XCTAssertTrue(waitUntil(timeout: 5) {
            first.pipeline.merchantRisk?.current?.version == b.version
                && second.pipeline.merchantRisk?.current?.version == b.version
        })
        let switched = Date().timeIntervalSince(published)
        XCTAssertLessThan(switched, 0.5 + 0.4, "both switched within a poll interval (0.5 s, plus scheduling slack)")

        try h.publish(Array(input[1200...]))
        XCTAssertTrue(waitUntil(timeout: 60) { first.processed + second.processed >= 2400 })
        XCTAssertGreaterThan(first.processed, 0)
        XCTAssertGreaterThan(second.processed, 0)
        first.stop()
        second.stop()

        let late = Set(Self.transactionIds(Array(input[1200...])))
        let decided = try checkOutputs(h, merchants: { late.contains($0.transactionId) ? b : a })
        XCTAssertGreaterThan(decided, 2000)
        // The records of each half name their snapshot, from both instances.
        let records = try h.readAll(h.config.topics.features).map { json($0.value) }
        let versions = Dictionary(grouping: records) { $0["merchant_risk_version"] as? String ?? "?" }.mapValues(\.count)
        XCTAssertEqual(Set(versions.keys), [a.version, b.version], "\(versions)")
        XCTAssertEqual(first.pipeline.stats.snapshot.merchantRiskErrors + second.pipeline.stats.snapshot.merchantRiskErrors, 0)
        let metrics = VigilMetrics().render(.init(stats: first.pipeline.stats.snapshot))
        XCTAssertTrue(metrics.contains("vigil_merchant_risk_info{version=\"\(b.version)\"} 1.0"), metrics)
        XCTAssertTrue(metrics.contains("vigil_merchant_risk_snapshot_age_seconds "), metrics)
        XCTAssertTrue(metrics.contains("vigil_merchant_risk_errors_total 0"), metrics)
    }

    /// `current` names a snapshot whose hash does not exist: every record gets the no-snapshot defaults and says
    /// "none", the error counter moves, nothing stalls. Then a snapshot with unreadable values: unreadable totals
    /// give every merchant the defaults; one unreadable merchant gives that merchant the defaults only.
    func testMissingOrUnreadableSnapshotGivesDefaultsWithoutStalling() throws {
        let h = try Harness()
        h.config.modelPollMs = 200
        let input = traffic(count: 2400, seed: 22)
        let merchants = Self.merchantIds(input)
        let redis = try RedisConnection(host: h.redis.host, port: h.redis.port)
        let prefix = h.config.redisPrefix
        let missing = "2026-11-20T00-00-00Z-000000000000"
        _ = try redis.send("SET", "\(prefix):{mrisk}:current", missing)

        let runner = try h.makePipeline(logLevel: .critical)
        defer { runner.stop() }
        try h.publish(Array(input[..<800]))
        XCTAssertTrue(runner.waitForProcessed(800), "no stall on a missing snapshot")
        XCTAssertEqual(runner.pipeline.merchantRisk?.current?.version, missing)
        let afterMissing = runner.pipeline.stats.snapshot.merchantRiskErrors
        XCTAssertGreaterThan(afterMissing, 0, "the error counter moved")

        // Garbage totals: a hash whose totals field does not parse.
        var rng = SystemRandomNumberGenerator()
        var garbageTotals = Self.table("2026-11-21T00-00-00Z-111111111111", merchants: merchants, rng: &rng)
        try Self.publish(garbageTotals, prefix: prefix, on: redis)
        _ = try redis.send("HSET", "\(prefix):{mrisk}:\(garbageTotals.version)", "", "1,2,x")
        garbageTotals.unreadable = Set(merchants)
        XCTAssertTrue(waitUntil(timeout: 5) { runner.pipeline.merchantRisk?.current?.version == garbageTotals.version })
        try h.publish(Array(input[800..<1600]))
        XCTAssertTrue(runner.waitForProcessed(1600))
        let afterTotals = runner.pipeline.stats.snapshot.merchantRiskErrors
        XCTAssertGreaterThan(afterTotals, afterMissing)

        // One merchant's value unreadable (frauds above transactions); the others are served.
        var oneBad = Self.table("2026-11-22T00-00-00Z-222222222222", merchants: merchants, rng: &rng)
        try Self.publish(oneBad, prefix: prefix, on: redis)
        let bad = merchants[0]
        _ = try redis.send("HSET", "\(prefix):{mrisk}:\(oneBad.version)", bad, "1,1,1,2,2,2")
        oneBad.unreadable = [bad]
        XCTAssertTrue(waitUntil(timeout: 5) { runner.pipeline.merchantRisk?.current?.version == oneBad.version })
        try h.publish(Array(input[1600...]))
        XCTAssertTrue(runner.waitForProcessed(2400))
        runner.stop()
        XCTAssertGreaterThan(runner.pipeline.stats.snapshot.merchantRiskErrors, afterTotals)

        let first = Set(Self.transactionIds(Array(input[..<800])))
        let second = Set(Self.transactionIds(Array(input[800..<1600])))
        let missingTable = ContractOracle.MerchantTable(version: missing, totals: .zero, merchants: [:], unreadable: Set(merchants))
        try checkOutputs(h, merchants: { tx in
            first.contains(tx.transactionId) ? missingTable : second.contains(tx.transactionId) ? garbageTotals : oneBad
        })
        let records = try h.readAll(h.config.topics.features).map { json($0.value) }
        XCTAssertTrue(records.contains { $0["merchant_risk_version"] as? String == oneBad.version })
        XCTAssertTrue(records.contains { $0["merchant_id"] as? String == bad && $0["merchant_risk_version"] as? String == "none" })
        let metrics = VigilMetrics().render(.init(stats: runner.pipeline.stats.snapshot))
        XCTAssertTrue(metrics.contains("vigil_merchant_risk_errors_total \(runner.pipeline.stats.snapshot.merchantRiskErrors)"))
    }

    /// Catalog 1 serves what Vigil served before catalog 2: schema-1 records with the sixteen card features, and no
    /// merchant lookup even with a snapshot published.
    func testCatalogOneServesCatalogOneAndLooksNoMerchantUp() throws {
        let h = try Harness()
        h.config.featureCatalog = .v1
        let input = traffic(count: 1200, seed: 23)
        let redis = try RedisConnection(host: h.redis.host, port: h.redis.port)
        var rng = SystemRandomNumberGenerator()
        try Self.publish(Self.table("2026-11-24T00-00-00Z-cccccccccccc", merchants: Self.merchantIds(input), rng: &rng),
                         prefix: h.config.redisPrefix, on: redis)
        try h.publish(input)
        let runner = try h.makePipeline()
        XCTAssertTrue(runner.waitForProcessed(input.count))
        runner.stop()
        XCTAssertNil(runner.pipeline.merchantRisk)
        XCTAssertEqual(runner.pipeline.stats.snapshot.merchantRiskLookups, 0)
        try checkOutputs(h)
        let metrics = VigilMetrics().render(.init(stats: runner.pipeline.stats.snapshot))
        XCTAssertTrue(metrics.contains("vigil_feature_catalog_info{catalog=\"1\"} 1.0"))
        XCTAssertFalse(metrics.contains("vigil_merchant_risk"))
    }

    /// A model naming a catalog-2 feature is refused by a catalog-1 pipeline at start, with the reason; on reload it
    /// is refused, the running model stays, and the refusal is counted.
    func testCatalogOneRefusesACatalogTwoModel() throws {
        let h = try Harness(partitions: 1)
        h.config.featureCatalog = .v1
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-catalog-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let v2 = dir.appendingPathComponent("v2.json")
        try Self.catalogTwoModel().encoded().write(to: v2)

        XCTAssertThrowsError(try ModelHolder(path: v2.path, catalog: .v1)) { error in
            XCTAssertTrue("\(error)".contains("'merchant_fraud_rate_30d' is not served by the running feature catalog 1"), "\(error)")
        }
        let serving = try ModelHolder(path: v2.path, catalog: .v2)
        XCTAssertThrowsError(try Pipeline(config: h.config, models: serving, logger: LogCapture().logger)) { error in
            XCTAssertTrue("\(error)".contains("catalog"), "\(error)")
        }

        // Reload: the file changes to the v2 model under a catalog-1 holder.
        let file = dir.appendingPathComponent("model.json")
        try FileManager.default.copyItem(atPath: h.config.modelPath, toPath: file.path)
        let holder = try ModelHolder(path: file.path, catalog: .v1)
        let before = holder.model.version
        let stats = PipelineStats()
        holder.reportRefusals(to: stats)
        Thread.sleep(forTimeInterval: 1.1)  // a new modification time
        try FileManager.default.removeItem(at: file)
        try FileManager.default.copyItem(at: v2, to: file)
        let log = LogCapture()
        XCTAssertNil(holder.reloadIfChanged(force: true, logger: log.logger))
        XCTAssertEqual(holder.model.version, before, "the running model stays")
        XCTAssertEqual(holder.refusals, 1)
        XCTAssertEqual(log.count(of: "model rejected, keeping the running model"), 1)
        XCTAssertTrue(VigilMetrics().render(.init(stats: stats.snapshot)).contains("vigil_models_refused_total 1"))
    }

    /// The real binary exits at start, naming the feature and the catalog.
    func testServeRefusesACatalogTwoModelUnderCatalogOne() throws {
        let h = try Harness(partitions: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-catalog-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let v2 = dir.appendingPathComponent("v2.json")
        try Self.catalogTwoModel().encoded().write(to: v2)
        let vigil = try VigilProcess(h, name: "catalog-1", extra: ["--feature-catalog", "1", "--model", v2.path])
        let exit = try XCTUnwrap(vigil.waitForExit(limit: 30), "still running: \(vigil.log.suffix(2000))")
        XCTAssertNotEqual(exit.status, 0)
        XCTAssertTrue(vigil.log.contains("is not served by the running feature catalog 1"), vigil.log.suffix(2000).description)
        XCTAssertFalse(vigil.log.contains("pipeline started"))
    }

    // MARK: Support

    static func catalogTwoModel() -> ModelFile {
        ModelFile(
            version: "catalog-2-test",
            features: [.init(name: "amount", transform: "log1p", weight: 0.5),
                       .init(name: "merchant_fraud_rate_30d", weight: 40)],
            bias: -6, thresholds: .init(review: 0.5, block: 0.9))
    }

    static func merchantIds(_ input: [(key: [UInt8]?, value: [UInt8])]) -> [String] {
        var seen: [String] = []
        for m in input {
            guard case .success(let tx) = TransactionDecoder.decode(value: m.value, key: m.key) else { continue }
            if !seen.contains(tx.merchantId) { seen.append(tx.merchantId) }
        }
        return seen
    }

    static func transactionIds(_ input: [(key: [UInt8]?, value: [UInt8])]) -> [String] {
        input.compactMap { json($0.value)["transaction_id"] as? String }
    }

    /// A table with random counts for two thirds of the merchants (the others are missing from it).
    static func table(_ version: String, merchants: [String], rng: inout some RandomNumberGenerator) -> ContractOracle.MerchantTable {
        var table: [String: MerchantRiskCounts] = [:]
        for (i, merchant) in merchants.enumerated() where i % 3 != 2 {
            let n1 = Int64.random(in: 0...50, using: &rng), n7 = n1 + Int64.random(in: 0...300, using: &rng)
            let n30 = n7 + Int64.random(in: 0...900, using: &rng)
            let f1 = Int64.random(in: 0...n1, using: &rng), f7 = f1 + Int64.random(in: 0...(n7 - n1), using: &rng)
            table[merchant] = MerchantRiskCounts(
                transactions1d: n1, transactions7d: n7, transactions30d: n30, frauds1d: f1, frauds7d: f7,
                frauds30d: f7 + Int64.random(in: 0...(n30 - n7), using: &rng))
        }
        let totals = table.values.reduce(MerchantRiskCounts.zero, +) + MerchantRiskCounts(
            transactions1d: 5000, transactions7d: 30000, transactions30d: 100_000, frauds1d: 20, frauds7d: 90, frauds30d: 400)
        return ContractOracle.MerchantTable(version: version, totals: totals, merchants: table)
    }

    /// Writes the snapshot's hash, then points `current` at it (docs/merchant-risk.md, "In Redis").
    static func publish(_ table: ContractOracle.MerchantTable, prefix: String, on redis: RedisConnection) throws {
        var hset = RedisCommand("HSET")
        hset.append("\(prefix):{mrisk}:\(table.version)")
        hset.append(MerchantRiskVersion.totalsField)
        hset.append(table.totals.redisValue)
        for (merchant, counts) in table.merchants.sorted(by: { $0.key < $1.key }) {
            hset.append(merchant)
            hset.append(counts.redisValue)
        }
        XCTAssertNotNil(try redis.send(hset).int)
        XCTAssertEqual(try redis.send("SET", "\(prefix):{mrisk}:current", table.version), .status("OK"))
    }
}

extension PipelineRunner {
    var processed: Int { pipeline.stats.snapshot.processed }
}
