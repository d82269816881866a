import Foundation
import VigilCore
@testable import VigilTraining

/// A seeded generator for test data (splitmix64), with uniform and normal draws.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    mutating func bernoulli(_ p: Double) -> Bool { unit() < p }
}

func sigmoid(_ z: Double) -> Double { 1 / (1 + exp(-z)) }

/// History records in memory, for `TrainingJob` and builder tests.
struct MemorySource: HistorySource {
    var lines: [String]
    var name = "memory"

    func read(_ body: (RawRecord) throws -> Void, progress: (ReadProgress) -> Void) throws -> SourceSummary {
        var hasher = SHA256()
        var bytes: Int64 = 0
        for (i, line) in lines.enumerated() {
            var bytesOfLine = Array(line.utf8)
            hasher.update(bytesOfLine + [0x0A])
            bytes += Int64(bytesOfLine.count + 1)
            try bytesOfLine.withUnsafeMutableBytes { try body(RawRecord(bytes: UnsafeRawBufferPointer($0), location: .line(i + 1))) }
        }
        progress(ReadProgress(source: name, records: lines.count, bytes: bytes, finished: true))
        return SourceSummary(description: name, records: lines.count, bytes: bytes, sha256: SHA256.hexString(hasher.finalize()))
    }
}

/// A feature record line as the service writes it.
func featureLine(
    id: String, timeMs: Int64, verdict: String = "approve", features: FeatureVector = FeatureVector(), score: Double = 0.01,
    catalog: FeatureCatalog = .v2
) -> String {
    let values = catalog.features.map { "\"\($0.name)\":\(features[$0])" }.joined(separator: ",")
    return "{\"schema_version\":1,\"transaction_id\":\"\(id)\",\"card_id\":\"card-1\",\"event_time_ms\":\(timeMs),"
        + "\"model_version\":\"test\",\"score\":\(score),\"verdict\":\"\(verdict)\",\"features\":{\(values)}}"
}

func labelLine(id: String, fraud: Bool, reportedAtMs: Int64 = 0) -> String {
    "{\"schema_version\":1,\"transaction_id\":\"\(id)\",\"is_fraud\":\(fraud),\"reported_at_ms\":\(reportedAtMs)}"
}

let dayMs: Int64 = 86_400_000
let baseTimeMs: Int64 = 1_790_000_000_000

/// Synthetic history from a known logistic model over transformed features: fraud depends on
/// log1p(count_1m), high_risk_mcc and log1p(amount_vs_avg); everything else is noise.
struct SyntheticHistory {
    var features: [String] = []
    var labels: [String] = []
    var truth: [Bool] = []

    static let trueBias = -4.5
    static let trueWeights: [Feature: Double] = [.count1m: 1.5, .highRiskMcc: 2.0, .amountVsAvg: 1.5]

    /// The generating model's log-odds for raw features.
    static func trueLogit(_ f: FeatureVector) -> Double {
        var z = trueBias
        for (feature, w) in trueWeights {
            z += w * (feature == .highRiskMcc ? f[feature] : log1p(f[feature]))
        }
        return z
    }

    init(count: Int, days: Int64 = 90, seed: UInt64 = 7, labelAll: Bool = false) {
        var random = TestRandom(seed: seed)
        for i in 0..<count {
            var f = FeatureVector()
            f[.amount] = exp(3 + random.normal())
            f[.count1m] = Double(Int(-log(max(random.unit(), 1e-12))))
            f[.count10m] = f[.count1m] + Double(Int(random.unit() * 3))
            f[.count1h] = f[.count10m] + Double(Int(random.unit() * 4))
            f[.count24h] = f[.count1h] + Double(Int(random.unit() * 8))
            f[.sum1h] = f[.count1h] * exp(3 + random.normal())
            f[.sum24h] = f[.count24h] * exp(3 + random.normal())
            f[.distinctMerchants1h] = min(f[.count1h], Double(Int(random.unit() * 3)))
            f[.distinctCountries24h] = random.bernoulli(0.1) ? 2 : 1
            f[.newMerchant24h] = random.bernoulli(0.4) ? 1 : 0
            f[.secondsSinceLast] = min(2_592_000, exp(8 + 2 * random.normal()))
            f[.countryChanged] = random.bernoulli(0.05) ? 1 : 0
            f[.geoVelocityKmh] = random.bernoulli(0.5) ? exp(2 + 2 * random.normal()) : 0
            f[.amountVsAvg] = exp(0.8 * random.normal())
            f[.cardNotPresent] = random.bernoulli(0.3) ? 1 : 0
            f[.highRiskMcc] = random.bernoulli(0.08) ? 1 : 0
            let fraud = random.bernoulli(sigmoid(Self.trueLogit(f)))
            let time = baseTimeMs + days * dayMs * Int64(i) / Int64(count)
            let id = "tx-\(i)"
            features.append(featureLine(id: id, timeMs: time, features: f))
            truth.append(fraud)
            if fraud || labelAll { labels.append(labelLine(id: id, fraud: fraud, reportedAtMs: time + dayMs)) }
        }
    }
}

/// Builds a design matrix from rows of Doubles.
func design(_ rows: [[Double]], _ labels: [UInt8]) -> DesignMatrix {
    DesignMatrix(columns: rows.first?.count ?? 0, values: rows.flatMap { $0.map(Float.init) }, labels: labels)
}

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-train-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}
