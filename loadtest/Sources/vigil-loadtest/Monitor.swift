import Kafka
import Foundation
import Histogram

/// Once a second: takes the ledger's counts and the second's latencies, reads Vigil's and the tool's CPU and
/// memory from /proc and Redis's memory from INFO, prints the live line and keeps the sample.
final class Monitor: @unchecked Sendable {
    // @unchecked Sendable: `redis` is used only by the monitor thread while it runs; everything shared is locked.
    private let ledger: Ledger
    private let redis: RedisProbe?
    private let vigilPid: () -> Int32
    private let targetRate: ((Double) -> Double)?
    private let running = Locked(true)
    private let done = DispatchSemaphore(value: 0)
    let samples = Locked<[Sample]>([])
    private(set) var startNs: Int64 = 0
    /// Sets TCP_NODELAY on new sockets of the in-process mock broker every tick (see `MockKafkaCluster.disableNagleOnProcessSockets`).
    private let tuneMockSockets: Bool

    init(ledger: Ledger, redis: RedisProbe?, vigilPid: @escaping () -> Int32, targetRate: ((Double) -> Double)?, tuneMockSockets: Bool) {
        self.tuneMockSockets = tuneMockSockets
        self.ledger = ledger
        self.redis = redis
        self.vigilPid = vigilPid
        self.targetRate = targetRate
    }

    func start(atNs startNs: Int64) {
        self.startNs = startNs
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "loadtest-monitor"
        thread.start()
    }

    /// Stops after the current tick (waits at most 5 s). Idempotent: later calls return at once.
    func stop() {
        running.withLock { $0 = false }
        if done.wait(timeout: .now() + 5) == .success { done.signal() }
    }

    private func run() {
        var previous = ledger.snapshot
        var previousVigil = vigilPid() > 0 ? ProcessUsage.read(pid: vigilPid()) : nil
        var previousTool = ProcessUsage.read(pid: getpid())
        var previousNs = startNs
        var second = 0
        while running.value {
            second += 1
            MonotonicClock.sleep(untilNs: startNs + Int64(second) * 1_000_000_000)
            guard running.value else { break }
            if tuneMockSockets { MockKafkaCluster.disableNagleOnProcessSockets() }
            let nowNs = MonotonicClock.nowNs()
            let interval = Double(nowNs - previousNs) / 1e9
            let (snap, histogram) = ledger.takeSecond()
            let pid = vigilPid()
            let vigil = pid > 0 ? ProcessUsage.read(pid: pid) : nil
            let tool = ProcessUsage.read(pid: getpid())
            var sample = Sample(
                second: second,
                targetRate: targetRate?(Double(second) - 0.5),
                published: snap.measured.published - previous.measured.published,
                outcomes: snap.measured.outcomes - previous.measured.outcomes,
                decisions: snap.measured.decisions - previous.measured.decisions,
                lag: snap.lag)
            // Open loop only: in --max mode a decision's age is how long it sat in the backlog, not a latency.
            if targetRate != nil, histogram.totalCount > 0 {
                sample.p50Ms = Double(histogram.valueAtPercentile(50)) / 1000
                sample.p99Ms = Double(histogram.valueAtPercentile(99)) / 1000
                sample.maxMs = Double(histogram.max) / 1000
            }
            if let vigil {
                if let before = previousVigil {
                    sample.vigilCPUPercent = (vigil.cpuSeconds - before.cpuSeconds) / interval * 100
                }
                sample.vigilRSSBytes = vigil.rssBytes
            }
            if let tool, let before = previousTool {
                sample.toolCPUPercent = (tool.cpuSeconds - before.cpuSeconds) / interval * 100
            }
            sample.redisUsedMemory = redis?.usedMemory()
            samples.withLock { $0.append(sample) }
            Console.line(Self.liveLine(sample))
            previous = snap
            previousVigil = vigil
            previousTool = tool
            previousNs = nowNs
        }
    }

    static func liveLine(_ s: Sample) -> String {
        let ms = { (v: Double?) in Format.pad(v.map { Format.fixed($0, 1) } ?? "-", 7) }
        let pct = { (v: Double?) in Format.pad(v.map { Format.fixed($0, 0) + "%" } ?? "-", 5) }
        let mb = { (v: Int64?) in Format.pad(v.map { Format.fixed(Double($0) / 1_048_576, 0) } ?? "-", 5) + " MB" }
        return Format.pad("\(s.second)s", 5) + "  pub " + Format.pad("\(s.published)", 6) + "/s  done "
            + Format.pad("\(s.outcomes)", 6) + "/s  lag " + Format.pad("\(s.lag)", 7)
            + "  p50 " + ms(s.p50Ms) + " ms  p99 " + ms(s.p99Ms) + " ms  vigil " + pct(s.vigilCPUPercent) + " CPU "
            + mb(s.vigilRSSBytes) + "  tool " + pct(s.toolCPUPercent) + " CPU  redis " + mb(s.redisUsedMemory)
    }
}
