import ArgumentParser
import Foundation
import VigilCore
import VigilService
import VigilTraining

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `vigil merchant-risk`: the batch job that turns transactions and labels into the merchant-risk snapshot the stream
/// serves (docs/merchant-risk.md).
struct MerchantRiskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merchant-risk",
        abstract: "Compute the merchant-risk table as of a cut time (transactions and frauds per merchant over 1, 7 and "
            + "30 days ending a label delay before the cut, labels reported before the cut) and write it to a file "
            + "and/or publish it to Redis for every instance."
    )

    @Option(help: "Kafka bootstrap servers HOST:PORT[,...] for inputs not given as files (env VIGIL_BROKERS).")
    var brokers = Environment.string("VIGIL_BROKERS", "127.0.0.1:9092")

    @Option(name: .customLong("transactions-file"), help: "Read transaction-bearing records (transactions messages or catalog-v2 feature records) from this JSON-lines file; repeatable.")
    var transactionsFiles: [String] = []

    @Option(name: .customLong("transactions-topic"), help: "Read transaction-bearing records from this Kafka topic; repeatable (default, when no --transactions-file: env VIGIL_TOPIC_FEATURES or fraud.features).")
    var transactionsTopics: [String] = []

    @Option(name: .customLong("labels-file"), help: "Read labels from this JSON-lines file; repeatable.")
    var labelsFiles: [String] = []

    @Option(name: .customLong("labels-topic"), help: "Read labels from this Kafka topic; repeatable (default, when no --labels-file: env VIGIL_TOPIC_LABELS or fraud.labels).")
    var labelsTopics: [String] = []

    @Option(name: .customLong("kafka-property"), help: "Extra librdkafka property KEY=VALUE for the history readers (consumers; consumer.KEY=VALUE also works), repeatable; overrides --kafka-config and VIGIL_KAFKA_*. Visible in ps: give secrets in a file or VIGIL_KAFKA_<NAME>_FILE instead (docs/kafka-settings.md).")
    var kafkaProperties: [String] = []

    @Option(name: .customLong("kafka-config"), help: "librdkafka properties file for the history readers, as for vigil serve (producer. keys are ignored); repeatable; VIGIL_KAFKA_* variables override it (env VIGIL_KAFKA_CONFIG; docs/kafka-settings.md).")
    var kafkaConfig: [String] = Environment.optionalString(KafkaSettings.configVariable).map { [$0] } ?? []

    /// The librdkafka settings of the history readers.
    func kafkaSettings() -> KafkaSettings {
        KafkaSettings(files: kafkaConfig, environment: Environment.variables, commandLine: kafkaProperties)
    }

    @Option(help: "The cut time T: ms since the epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC); default now.")
    var cut: String?

    @Option(help: "Label delay D in days: the windows end at T - D.")
    var labelDelayDays = 7.0

    @Option(help: "Write the table to this JSON-lines file (header line, then one line per merchant); written atomically.")
    var out: String?

    @Option(help: "Instead of computing a table, read one written earlier with --out (its version is checked against its content), e.g. to publish it again or roll back.")
    var table: String?

    @Flag(help: "Publish the table to Redis (--redis, --redis-prefix) and serve it: every instance switches to it within a poll interval.")
    var publish = false

    @Option(help: "Redis HOST:PORT for --publish (env VIGIL_REDIS).")
    var redis = Environment.string("VIGIL_REDIS", "127.0.0.1:6379")

    @Option(help: "Key prefix in Redis, as given to vigil serve (env VIGIL_REDIS_PREFIX).")
    var redisPrefix = Environment.string("VIGIL_REDIS_PREFIX", "vigil")

    @OptionGroup(title: "Redis authentication and TLS (with --publish)")
    var redisSecurity: RedisSecurityOptions

    @Option(name: .customLong("keep-previous-ms"), help: "After a switch, the previously served snapshot expires after this many ms (instances that have not switched yet still read it).")
    var keepPreviousMs: Int64 = MerchantRiskChannel.defaultKeepPreviousMs

    @Option(help: ArgumentHelp("Write N synthetic transactions to --transactions-file and their labels to --labels-file, then exit.", visibility: .hidden))
    var synthesize: Int?

    @Option(help: ArgumentHelp("Merchants of the synthetic history.", visibility: .hidden))
    var synthesizeMerchants = 200_000

    @Option(help: ArgumentHelp("Event-time span of the synthetic history in days, ending 2026-11-25T00:00:00Z.", visibility: .hidden))
    var synthesizeDays = 40.0

    @Option(help: ArgumentHelp("Seed of the synthetic history.", visibility: .hidden))
    var seed: UInt64 = 42

    func validate() throws {
        var problems: [String] = []
        if let cut, MerchantRiskCut.parseTime(cut) == nil {
            problems.append("--cut must be ms since the epoch, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got '\(cut)'")
        }
        if !(labelDelayDays >= 0 && labelDelayDays <= 365) { problems.append("--label-delay-days must be 0-365, got \(labelDelayDays)") }
        if publish, hostPort(redis) == nil { problems.append("--redis must be HOST:PORT, got '\(redis)'") }
        if publish {
            let tls = redisSecurity.settings(problems: &problems).tls
            problems += tls?.problems ?? []
        }
        if redisPrefix.isEmpty || redisPrefix.contains(" ") { problems.append("--redis-prefix must be non-empty without spaces") }
        if keepPreviousMs < 1 { problems.append("--keep-previous-ms must be >= 1") }
        problems += kafkaSettings().problems
        if table != nil, !(transactionsFiles.isEmpty && transactionsTopics.isEmpty && labelsFiles.isEmpty && labelsTopics.isEmpty) {
            problems.append("--table reads a computed table: it takes no --transactions-* or --labels-* input")
        }
        if table != nil, cut != nil { problems.append("--table carries its own cut; --cut is for computing a table") }
        if let n = synthesize {
            if n < 1 { problems.append("--synthesize must be >= 1") }
            if transactionsFiles.count != 1 || labelsFiles.count != 1 {
                problems.append("--synthesize needs one --transactions-file and one --labels-file to write")
            }
            if synthesizeMerchants < 1 { problems.append("--synthesize-merchants must be >= 1") }
            if !(synthesizeDays > 0) { problems.append("--synthesize-days must be > 0") }
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        // Reading blocks (files, librdkafka): on a thread of its own, off Swift's cooperative pool.
        let command = self
        try await runOnOwnThread(name: "vigil-merchant-risk") {
            if let n = command.synthesize { try command.writeSynthetic(count: n) } else { try command.compute() }
        }
    }

    private func compute() throws {
        let started = Date()
        let cutMs = cut.flatMap(MerchantRiskCut.parseTime) ?? Int64(started.timeIntervalSince1970 * 1000)
        let window = MerchantRiskCut(cutMs: cutMs, labelDelayMs: Int64((labelDelayDays * 86_400_000).rounded()))
        if publish, table == nil, cutMs > Int64(Date().timeIntervalSince1970 * 1000) {
            throw ValidationError("the cut \(UTCTime.iso(cutMs)) is in the future: a table is published only at or after its cut")
        }
        let settings = kafkaSettings()
        if !settings.problems.isEmpty { throw ValidationError(settings.problems.joined(separator: "\n")) }
        let properties = settings.consumer
        let transactionTopics = transactionsTopics.isEmpty && transactionsFiles.isEmpty
            ? [Environment.string("VIGIL_TOPIC_FEATURES", "fraud.features")] : transactionsTopics
        let labelTopics = labelsTopics.isEmpty && labelsFiles.isEmpty
            ? [Environment.string("VIGIL_TOPIC_LABELS", "fraud.labels")] : labelsTopics
        let transactions: [any HistorySource] = transactionsFiles.map { JSONLinesFile(path: $0) }
            + transactionTopics.map { KafkaTopicHistory(brokers: brokers, topic: $0, properties: properties) }
        let labels: [any HistorySource] = labelsFiles.map { JSONLinesFile(path: $0) }
            + labelTopics.map { KafkaTopicHistory(brokers: brokers, topic: $0, properties: properties) }
        let channel = try publish ? hostPort(redis).map {
            MerchantRiskChannel(endpoint: try redisSecurity.endpoint(host: $0.0, port: $0.1), prefix: redisPrefix)
        } : nil
        if let channel {
            // An unreachable Redis stops the run before the reading, not after it.
            do { _ = try channel.current() } catch {
                throw ValidationError("redis \(channel.address) cannot be read: \(error)")
            }
        }

        let console = ProgressConsole()
        if !transactionTopics.isEmpty || !labelTopics.isEmpty {
            for warning in settings.warnings { console.note("warning: \(warning)") }
        }
        let snapshot: MerchantRiskSnapshot
        let report: String
        if let table {
            console.note("vigil merchant-risk: reading the table \(table)")
            do { snapshot = try MerchantRiskSnapshot.read(from: JSONLinesFile(path: table)) } catch {
                throw ValidationError("\(table): \(error)")
            }
            report = "Merchant risk \(snapshot.version)\n\n  table        \(table): \(grouped(snapshot.merchants.count)) merchants, cut \(UTCTime.iso(snapshot.cut.cutMs)), "
                + "label delay \(Double(snapshot.cut.labelDelayMs) / 86_400_000) days"
        } else {
            console.note("vigil merchant-risk: cut \(UTCTime.iso(window.cutMs)), label delay \(labelDelayDays) days")
            let outcome = try MerchantRiskJob(cut: window).run(transactions: transactions, labels: labels) { progress in
                switch progress {
                case .stage(let name): console.show(.stage(name))
                case .reading(let what, let p): console.show(.reading(what, p))
                }
            }
            snapshot = outcome.snapshot
            report = outcome.report.summary(snapshot: snapshot)
        }
        // Served features must have been computable when they are scored: a table as of a cut still to come would
        // be served before its labels could all have been reported (docs/merchant-risk.md, point-in-time correctness).
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        if publish, snapshot.cut.cutMs > nowMs {
            throw ValidationError("the cut \(UTCTime.iso(snapshot.cut.cutMs)) is in the future: a table is published only at or after its cut")
        }
        var done: [String] = []
        if let out {
            console.show(.stage("writing \(out)"))
            try Self.write(snapshot, to: out)
            done.append("wrote \(out) (\(grouped(snapshot.merchants.count + 1)) lines)")
        }
        var publishFailure: (any Error)?
        if let channel {
            console.show(.stage("publishing to redis \(channel.address)"))
            let before = try? channel.usedMemoryBytes()
            let publishStarted = Date()
            do {
                let result = try channel.publish(
                    version: snapshot.version, totals: snapshot.totals, merchants: snapshot.merchants,
                    keepPreviousMs: keepPreviousMs
                ) { written in
                    console.show(.reading("fields", ReadProgress(source: "publish", records: written, bytes: 0, expectedRecords: Int64(snapshot.merchants.count + 1))))
                }
                let seconds = Date().timeIntervalSince(publishStarted)
                if result.switched {
                    var line = "published \(channel.snapshotKey(snapshot.version)) (\(grouped(result.fields)) fields in \(result.commands) commands, "
                        + "\(String(format: "%.2f", seconds)) s) and switched \(channel.currentKey) from \(result.previous ?? "none")"
                    if let before, let after = try? channel.usedMemoryBytes() {
                        let perMerchant = Double(after - before) / Double(max(1, snapshot.merchants.count))
                        line += "; redis used_memory \(String(format: "%+.1f", Double(after - before) / 1e6)) MB, "
                            + "\(String(format: "%.0f", perMerchant)) bytes per merchant (until the previous version expires)"
                    }
                    done.append(line)
                } else {
                    done.append("\(snapshot.version) is already current in redis \(channel.address): nothing written")
                }
            } catch {
                done.append("NOT published to redis \(channel.address): \(error)")
                publishFailure = error
            }
        }
        if out == nil, channel == nil { done.append("neither --out nor --publish: nothing written") }
        console.finish()
        print(report)
        print("")
        print(done.joined(separator: "\n"))
        let seconds = Date().timeIntervalSince(started)
        print("took \(String(format: "%.1f", seconds)) s (\(console.stageTimes())), peak memory \(peakMemoryMB()) MB")
        if let publishFailure { throw ValidationError("publishing the snapshot to redis failed: \(publishFailure)") }
    }

    /// Writes the snapshot as JSON lines to a temporary file beside `path`, then renames it into place, so a reader
    /// never sees half a table.
    static func write(_ snapshot: MerchantRiskSnapshot, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let writer = try LineWriter(path: temporary)
        snapshot.forEachLine { writer.write($0) }
        do { try writer.close() } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ValidationError("cannot move \(temporary) to \(path): \(reason)")
        }
    }
}

/// `1234567` as `1,234,567`.
private func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}
