import ArgumentParser
import Foundation

@main
struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-loadtest",
        abstract: "Measure Vigil: run the real `vigil serve` against generated card traffic and report latency, "
            + "throughput, resource use and detection quality.",
        discussion: """
            Open loop (default): publishes --rate transactions/s on a fixed schedule for --seconds and measures the \
            latency of every decision from its scheduled and its actual send time.
            --max: publishes a backlog of --count transactions while Vigil is stopped, measures how fast a bare \
            consumer reads it (the consume ceiling), then starts Vigil and measures how fast it works through it.
            --profile hot: the traffic over --hot-cards cards; --profile attack: normal traffic plus a card-testing \
            attack on one card at --attack-rate.
            --profiles normal,hot,attack: one run per profile, each against a fresh Vigil, Kafka and Redis (normal \
            and hot with --max, the attack open loop), and one table side by side; its defaults are issue 13's \
            figures: --count 200000, --partitions 20 (for --max), --open-loop-partitions 2, --rate 10000.
            By default Kafka is librdkafka's mock cluster in this process and Redis a throwaway redis-server. \
            See loadtest/README.md.
            """
    )

    // MARK: Mode

    @Option(help: "Open loop: transactions per second to publish, the attack's not counted (in --max mode: the nominal rate that spaces event times). Default 5000; 10000 with --profiles.")
    var rate: Int?

    @Option(help: "Open loop: how long to publish, in seconds.")
    var seconds = 30

    @Option(help: "Open loop: ramp the rate up linearly from 0 over this many seconds (part of --seconds).")
    var rampSeconds = 0

    @Flag(help: "Maximum throughput: pre-publish --count transactions, then start Vigil and time the backlog.")
    var max = false

    @Option(help: "--max: backlog size. Default 500000; 200000 with --profiles.")
    var count: Int?

    // MARK: Profiles

    @Option(help: "The traffic: normal (--cards cards), hot (--hot-cards cards) or attack (normal traffic plus a card-testing attack on one card at --attack-rate).")
    var profile: LoadProfile = .normal

    @Option(help: "Compare profiles in one invocation, e.g. normal,hot,attack: one run each against a fresh Vigil (normal and hot with --max, attack open loop; name:max or name:open for the other mode, e.g. normal:open for the attack's normal traffic alone), then one table side by side. Replaces --profile and --max.")
    var profiles: String?

    @Option(help: "The hot profile's card population.")
    var hotCards = 300

    @Option(help: "The attack profile: the attack card's payments per second, on top of --rate.")
    var attackRate = 2000

    // MARK: Environment

    @Option(help: "Use this Kafka HOST:PORT[,...] instead of the in-process mock cluster (the topics must exist).")
    var brokers: String?

    @Option(help: "Use this Redis HOST:PORT instead of a throwaway redis-server (keys go under a random prefix and are deleted at the end).")
    var redis: String?

    @Flag(help: "Run Vigil on a throwaway Redis Cluster (3 masters, by default with a replica each, made with redis-cli --cluster create) instead of a single redis-server.")
    var redisCluster = false

    @Option(help: "With --redis-cluster: replicas per master (0 compares routing alone with a single Redis, which has none).")
    var redisClusterReplicas = 1

    @Option(help: "Mock cluster: partitions of every topic. Default 4; 20 with --profiles.")
    var partitions: Int32?

    @Option(help: "With --profiles: partitions for the open-loop runs (--partitions is then for the --max runs, whose backlog needs them). Default 2, the setup of the latency target: the mock broker's cost grows with partitions.")
    var openLoopPartitions: Int32 = 2

    // MARK: Vigil

    @Option(help: "The vigil binary (default: the one next to vigil-loadtest).")
    var vigil: String?

    @Option(help: "Model file passed to vigil serve.")
    var model = "models/baseline.json"

    @Option(help: "Vigil's delivery mode, passed to vigil serve as --mode: exactly-once (Vigil's default) or at-least-once.")
    var vigilMode = "exactly-once"

    @Option(help: "Passed to vigil serve as --batch-size (default: Vigil's own).")
    var batchSize: Int?

    @Option(help: "Passed to vigil serve as --batch-wait-ms (default: Vigil's own).")
    var batchWaitMs: Int?

    @Option(help: "Vigil's log level (its output goes to vigil.log in the report directory).")
    var vigilLogLevel = "info"

    @Option(help: "Extra argument for vigil serve, repeatable (e.g. --vigil-arg=--kafka-property --vigil-arg=fetch.wait.max.ms=5).")
    var vigilArg: [String] = []

    // MARK: Traffic

    @Option(help: "Number of cards in the generated population.")
    var cards = 100_000

    @Option(help: "Traffic seed (the same seed and flags give the same messages).")
    var seed: UInt64 = 42

    @Option(help: "Simulated event-time seconds per wall-clock second, so per-card rhythms are realistic.")
    var timeScale = 600.0

    @Option(help: "Share of cards that get a fraud episode.")
    var fraudCards = 0.01

    @Option(help: "Share of everyday merchants compromised once per 60 days for 2-5 weeks (fraud pattern compromised_merchant); 0 for none.")
    var compromisedMerchants = 0.0

    @Flag(help: "Publish a merchant-risk snapshot of every synthetic merchant before Vigil starts, so each batch looks its merchants up (feature catalog 2, the default; with --vigil-arg=--feature-catalog --vigil-arg=1 nothing looks it up).")
    var merchantSnapshot = false

    @Option(help: "Share of normal transactions shifted back within the allowed out-of-orderness.")
    var outOfOrder = 0.01

    @Option(help: "Share of normal transactions shifted back beyond the allowed lateness.")
    var late = 0.0005

    @Option(help: "Share of messages that break the contract (they must end in fraud.dlq).")
    var malformed = 0.001

    @Option(help: "Open loop: warm-up round size; rounds repeat until Vigil has written decisions, alerts, late and DLQ messages.")
    var warmup = 200

    // MARK: Publisher

    @Option(help: "Publisher compression: none, gzip, snappy, lz4, zstd (lz4 fits ~3x more backlog in the mock's 5 MiB per partition).")
    var compression = "none"

    @Option(help: "Publisher linger.ms (librdkafka's default; shorter makes many tiny batches, which the mock cluster serves ever more slowly).")
    var lingerMs = 5

    // MARK: Bounds and output

    @Option(help: "Seconds Vigil may take to become ready (warm-up decided; --max: first decision).")
    var startupTimeout = 60

    @Option(help: "Seconds to wait for outstanding outcomes after publishing ends (--max: for the whole backlog). A run also ends when nothing arrives for 20 s.")
    var drainTimeout = 300

    @Option(help: "Report directory (default loadtest/reports/<timestamp>-<mode>[-<profile>], or <timestamp>-profiles with --profiles).")
    var reportDir: String?

    @Option(help: "Print the first N messages this run would publish (event time from a fixed instant, so the same seed and flags print the same bytes) and exit without running anything.")
    var printTraffic: Int?

    @Flag(help: "With --redis: leave the run's keys in Redis instead of deleting them.")
    var keepRedisKeys = false

    @Flag(help: "Leave the mock broker's sockets without TCP_NODELAY (by default the tool sets it: unset, every acknowledgement waits ~40 ms for a delayed ACK).")
    var keepMockNagle = false

    func validate() throws {
        if let rate { guard (1...1_000_000).contains(rate) else { throw ValidationError("--rate must be 1-1000000") } }
        guard (1...86_400).contains(seconds) else { throw ValidationError("--seconds must be 1-86400") }
        guard rampSeconds >= 0, rampSeconds <= seconds else { throw ValidationError("--ramp-seconds must be 0...--seconds") }
        if let count { guard (1...50_000_000).contains(count) else { throw ValidationError("--count must be 1-50000000") } }
        if let partitions { guard (1...256).contains(partitions) else { throw ValidationError("--partitions must be 1-256") } }
        guard (1...256).contains(openLoopPartitions) else { throw ValidationError("--open-loop-partitions must be 1-256") }
        guard cards >= 1, cards < 1 << 32 else { throw ValidationError("--cards must be 1-4294967295") }
        guard hotCards >= 1, hotCards < 1 << 32 else { throw ValidationError("--hot-cards must be 1-4294967295") }
        guard (1...1_000_000).contains(attackRate) else { throw ValidationError("--attack-rate must be 1-1000000") }
        if let printTraffic, !(0...100_000_000).contains(printTraffic) { throw ValidationError("--print-traffic must be 0-100000000") }
        if let profiles {
            do { _ = try LoadProfile.list(profiles) } catch { throw ValidationError("--profiles: \(error)") }
            if max { throw ValidationError("--profiles picks each profile's mode itself: drop --max") }
        }
        guard timeScale >= 1, timeScale <= 100_000 else { throw ValidationError("--time-scale must be 1-100000") }
        for (name, value) in [("--fraud-cards", fraudCards), ("--compromised-merchants", compromisedMerchants), ("--out-of-order", outOfOrder), ("--late", late), ("--malformed", malformed)] {
            guard (0...1).contains(value) else { throw ValidationError("\(name) must be 0-1") }
        }
        guard (1...100_000).contains(warmup) else { throw ValidationError("--warmup must be 1-100000") }
        guard ["none", "gzip", "snappy", "lz4", "zstd"].contains(compression) else {
            throw ValidationError("--compression must be none, gzip, snappy, lz4 or zstd")
        }
        guard ["exactly-once", "at-least-once"].contains(vigilMode) else {
            throw ValidationError("--vigil-mode must be exactly-once or at-least-once")
        }
        if !(0...1000).contains(lingerMs) { throw ValidationError("--linger-ms must be 0-1000") }
        guard (1...3600).contains(startupTimeout) else { throw ValidationError("--startup-timeout must be 1-3600") }
        guard (1...86_400).contains(drainTimeout) else { throw ValidationError("--drain-timeout must be 1-86400") }
    }

    func run() throws {
        let settings = LoadTestSettings(self)
        if let printTraffic {
            TrafficDump.write(settings: settings, count: printTraffic)
            return
        }
        let signals = StopFlag()
        let interrupted = Locked(false)
        signals.installSignalHandlers { signal in
            interrupted.withLock { $0 = true }
            Console.line("\n(signal \(signal): stopping; the report covers what was measured so far)")
        }
        do {
            if let profiles {
                let comparison = ProfileComparison(
                    base: settings, runs: try LoadProfile.list(profiles), signals: signals, interrupted: interrupted)
                try comparison.execute()
            } else {
                try LoadTestRun(settings: settings, signals: signals, interrupted: interrupted).execute()
            }
        } catch {
            Console.error("\(error)")
            throw ExitCode(1)
        }
    }
}

extension LoadProfile: ExpressibleByArgument {}
