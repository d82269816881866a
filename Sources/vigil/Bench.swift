import ArgumentParser
import Dispatch
import Foundation
import VigilCore
import VigilService
import VigilTraffic

/// Microbenchmarks of the hot path's pure stages, without Kafka or Redis: what Vigil's own code costs per transaction.
/// Allocations per transaction: run one stage under valgrind and divide its heap usage by the iterations
/// (see docs/performance.md).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time the hot path's stages (decode, features, score, state update, encode) per transaction."
    )

    @Option(help: "Transactions of generated traffic to run through each stage.")
    var transactions = 200_000

    @Option(help: "Cards in the generated traffic (fewer cards: longer per-card histories).")
    var cards = 20_000

    @Option(help: "Run only this stage: decode, features, merchant, score, apply, encode, state, record.")
    var stage: String?

    @Option(help: "Model file.")
    var model = "models/baseline.json"

    @Option(help: "Feature catalog: 1 (card features, schema-1 records) or 2 (adds the day windows and merchant features, schema-2 records).")
    var featureCatalog = FeatureCatalog.default.rawValue

    func run() throws {
        guard let catalog = FeatureCatalog(rawValue: featureCatalog) else {
            throw ValidationError("--feature-catalog must be 1 or 2, got \(featureCatalog)")
        }
        let compiled = try ModelHolder(path: model, catalog: catalog).model
        var profile = TrafficProfile()
        profile.cards = cards
        profile.malformedFraction = 0
        profile.lateFraction = 0
        var generator = TrafficGenerator(profile: profile)
        let start: Int64 = 1_764_000_000_000
        // Event time advances 50 ms per transaction: with the defaults a card pays every ~17 minutes.
        let messages = (0..<transactions).map { generator.next(nowMs: start + Int64($0) * 50) }
        let decoded = messages.compactMap { try? TransactionDecoder.decode(value: $0.value, key: $0.key).get() }
        // Catalog 2: every merchant in a snapshot (its value as Redis holds it), the features a batch derives from it.
        let totals = MerchantRiskCounts(
            transactions1d: 500_000, transactions7d: 3_500_000, transactions30d: 15_000_000, frauds1d: 400,
            frauds7d: 2_900, frauds30d: 12_000)
        let merchantValues = decoded.map { tx -> [UInt8] in
            let h = fnv1a64(tx.merchantId)
            let n = Int64(h % 500)
            return Array(MerchantRiskCounts(
                transactions1d: n, transactions7d: 7 * n, transactions30d: 30 * n, frauds1d: n / 50,
                frauds7d: 7 * n / 50, frauds30d: 30 * n / 50).redisValue.utf8)
        }
        let merchantFeatures = merchantValues.map { value -> MerchantRiskFeatures in
            guard catalog.needsMerchantRisk, let counts = MerchantRiskCounts(redisValue: value) else { return .noSnapshot }
            return MerchantRiskFeatures(merchant: counts, totals: totals)
        }
        let merchantVersion: String? = catalog.needsMerchantRisk ? "2026-11-24T00-00-00Z-0123456789ab" : nil
        let config = FeatureConfig()
        let step = ScoringStep(config: config)

        // Card states as the pipeline would hold them at each transaction: replay once, keep the state before each.
        var states: [String: CardState] = [:]
        var clock = PartitionClock()
        var before: [CardState] = []
        before.reserveCapacity(decoded.count)
        // Each transaction is decided as it happens (reference = its own time): generated traffic is never ahead.
        for (i, tx) in decoded.enumerated() {
            let state = states[tx.cardId, default: CardState()]
            before.append(state)
            var next = state
            _ = step.process(
                tx, state: &next, clock: &clock, model: compiled, nowMs: 0, referenceMs: tx.eventTimeMs,
                merchant: merchantFeatures[i], merchantRiskVersion: merchantVersion)
            states[tx.cardId] = next
        }
        let features = decoded.indices.map { i -> FeatureVector in
            var f = before[i].features(for: decoded[i], amount: decoded[i].amount, config: config)
            f.setMerchant(merchantFeatures[i])
            return f
        }
        let decisions = zip(decoded, features).map {
            Decision(transaction: $0.0, features: $0.1, score: compiled.score($0.1), modelVersion: compiled.version, decidedAtMs: 0,
                     merchantRiskVersion: merchantVersion)
        }
        let held = before.map(\.events.count).reduce(0, +)
        let blobBytes = before.map(\.encodedSize).reduce(0, +)
        let finalBytes = states.values.map(\.encodedSize)
        print("traffic: \(decoded.count) transactions, \(cards) cards, \(String(format: "%.1f", Double(held) / Double(before.count))) held events per card on average, \(catalog)")
        print(String(format: "card state: %.0f bytes per card on average at each transaction, %.0f at the end (max %d)",
                     Double(blobBytes) / Double(before.count), Double(finalBytes.reduce(0, +)) / Double(max(1, finalBytes.count)),
                     finalBytes.max() ?? 0))

        if let disagreement = ShortestDouble.selfCheck().disagreement {
            print("number formatter self-check failed, doubles go through Double.description (slower): \(disagreement)")
        }
        var sink = 0.0
        let allocations = AllocationCounter()
        if allocations == nil {
            print("(allocation counts need LD_PRELOAD of the counter: run loadtest/malloc-count/run.sh)")
        }
        func measure(_ name: String, _ body: () -> Void) {
            guard stage == nil || stage == name else { return }
            let a0 = allocations?.count ?? 0
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            let ns = Double(DispatchTime.now().uptimeNanoseconds - t0) / Double(decoded.count)
            let perTx = allocations.map { String(format: "%6.2f allocations", Double($0.count - a0) / Double(decoded.count)) } ?? ""
            print(String(format: "%-9@ %8.0f ns %@ per transaction", name as NSString, ns, perTx as NSString))
        }
        measure("decode") {
            for m in messages { if case .success(let tx) = TransactionDecoder.decode(value: m.value, key: m.key) { sink += Double(tx.amountMinor) } }
        }
        measure("features") {
            for (tx, state) in zip(decoded, before) { sink += state.features(for: tx, amount: tx.amount, config: config)[.count1h] }
        }
        if catalog.needsMerchantRisk {
            // Per transaction: an upper bound (a batch resolves each distinct merchant once).
            measure("merchant") {
                for value in merchantValues {
                    if let counts = value.withUnsafeBytes({ MerchantRiskCounts(redisBytes: $0) }) {
                        sink += MerchantRiskFeatures(merchant: counts, totals: totals).fraudRate7d
                    }
                }
            }
        }
        measure("score") {
            for f in features { sink += compiled.score(f).value }
        }
        measure("apply") {
            var clock = PartitionClock()
            for (tx, state) in zip(decoded, before) {
                var s = state
                clock.observe(tx.eventTimeMs)
                s.apply(tx, amount: tx.amount, partitionMaxEventMs: clock.maxEventMs!, config: config)
                sink += Double(s.events.count)
            }
        }
        measure("encode") {
            var encoder = OutputEncoder(catalog: catalog)
            for d in decisions {
                sink += Double(encoder.withDecision(d) { $0.count } + encoder.withFeatureRecord(d) { $0.count })
            }
        }
        measure("state") {
            for state in before {
                let blob = state.encoded()
                sink += Double((try? CardState(decoding: blob))?.events.count ?? 0)
            }
        }
        measure("record") {
            var encoder = OutputEncoder(catalog: catalog)
            var clock = PartitionClock()
            for (i, (m, state)) in zip(messages, before).enumerated() {
                guard case .success(let tx) = TransactionDecoder.decode(value: m.value, key: m.key) else { continue }
                var s = state
                if case .decided(let d) = step.process(
                    tx, state: &s, clock: &clock, model: compiled, nowMs: 0, referenceMs: tx.eventTimeMs,
                    merchant: merchantFeatures[i], merchantRiskVersion: merchantVersion)
                {
                    sink += Double(encoder.withDecision(d) { $0.count } + encoder.withFeatureRecord(d) { $0.count })
                }
                sink += Double(s.encoded().count)
            }
        }
        if sink == .infinity { print(sink) }
    }
}

/// Reads the allocation count of `loadtest/malloc-count` when it is preloaded.
struct AllocationCounter {
    let read: @convention(c) () -> UInt

    init?() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "vigil_malloc_count") else { return nil }
        read = unsafeBitCast(symbol, to: (@convention(c) () -> UInt).self)
    }

    var count: Int { Int(read()) }
}
