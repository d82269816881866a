import Foundation
import XCTest
import Redis

/// What TLS costs on Vigil's Redis shapes, plain against TLS on two identical local servers. Prints figures; asserts
/// nothing about them. Skipped unless `VIGIL_REDIS_BENCH=1` (run it from a release build, docs/redis-security.md).
final class RedisTLSBenchmarkTests: XCTestCase {
    let script = RedisScript("""
        redis.call('HSET', KEYS[1], 'amount', ARGV[1], 'seen', ARGV[2])
        redis.call('HINCRBY', KEYS[1], 'count', 1)
        redis.call('PEXPIRE', KEYS[1], 86400000)
        return redis.call('HMGET', KEYS[1], 'count', 'amount')
        """)

    func testThroughputPlainAgainstTLS() throws {
        guard ProcessInfo.processInfo.environment["VIGIL_REDIS_BENCH"] == "1" else {
            throw XCTSkip("set VIGIL_REDIS_BENCH=1 to measure")
        }
        let certificates = try RedisTestCertificates.make()
        defer { certificates.remove() }
        let plain = try RedisServerProcess.start()
        defer { plain.stop() }
        let tls = try RedisServerProcess.start(tls: certificates.serverTLS())
        defer { tls.stop() }
        let rounds = Int(ProcessInfo.processInfo.environment["VIGIL_REDIS_BENCH_ROUNDS"] ?? "") ?? 5

        let value = [UInt8](repeating: 0x61, count: 100)
        let sets: [RedisCommand] = (0..<10_000).map { i in
            var command = RedisCommand("SET")
            command.append("bench:\(i)")
            command.append(value)
            return command
        }
        let gets: [RedisCommand] = (0..<10_000).map { RedisCommand(["GET", "bench:\($0)"]) }
        let batch: [RedisCommand] = (0..<2_000).map { i in
            var command = RedisCommand(evalSHA: script, keyCount: 1)
            command.append("card:\(i % 1500)")
            command.append(Int64(1000 + i))
            command.append(Int64(1_764_000_000_000 + Int64(i)))
            return command
        }

        for (name, endpoint) in [("plain", plain.endpoint), ("tls", tls.endpoint)] {
            let connection = try RedisConnection(endpoint: endpoint)
            try connection.load(script)
            _ = try connection.pipeline(sets)  // warm-up
            var setRates: [Double] = [], getRates: [Double] = [], evalRates: [Double] = [], pingMicros: [Double] = []
            for _ in 0..<rounds {
                setRates.append(try rate(10_000) { _ = try connection.pipeline(sets) })
                getRates.append(try rate(10_000) { _ = try connection.pipeline(gets) })
                evalRates.append(try rate(2_000 * 5) {
                    for _ in 0..<5 { _ = try connection.pipeline(batch) }
                })
                let pings = 2_000
                pingMicros.append(1e6 / (try rate(pings) { for _ in 0..<pings { _ = try connection.send("PING") } }))
            }
            print(String(
                format: "redis-bench %@: SET pipeline %.0f/s, GET pipeline %.0f/s, EVALSHA batch %.0f/s, PING round trip %.1f us (median of %d)",
                name, median(setRates), median(getRates), median(evalRates), median(pingMicros), rounds))
        }
    }

    private func rate(_ operations: Int, _ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return Double(operations) / seconds
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }
}
