import ArgumentParser
import Foundation
import VigilCore
import VigilService
import VigilTraffic
import VigilTraining

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `vigil train`: the nightly retraining run. See docs/retraining.md.
struct Train: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retrain the model on history: read feature records and labels (Kafka or JSON-lines files), fit an "
            + "L2 logistic regression, compare it with the current model on the newest data, write the candidate and "
            + "promote it if it is not worse."
    )

    @Option(help: "Kafka bootstrap servers HOST:PORT[,...] for inputs not given as files (env VIGIL_BROKERS).")
    var brokers = Environment.string("VIGIL_BROKERS", "127.0.0.1:9092")

    @Option(help: "Feature records topic (env VIGIL_TOPIC_FEATURES).")
    var featuresTopic = Environment.string("VIGIL_TOPIC_FEATURES", "fraud.features")

    @Option(help: "Labels topic (env VIGIL_TOPIC_LABELS).")
    var labelsTopic = Environment.string("VIGIL_TOPIC_LABELS", "fraud.labels")

    @Option(name: .customLong("kafka-property"), help: "Extra librdkafka property KEY=VALUE for the history readers (consumers; consumer.KEY=VALUE also works), repeatable; overrides --kafka-config and VIGIL_KAFKA_*. Visible in ps: give secrets in a file or VIGIL_KAFKA_<NAME>_FILE instead (docs/kafka-settings.md).")
    var kafkaProperties: [String] = []

    @Option(name: .customLong("kafka-config"), help: "librdkafka properties file for the history readers, as for vigil serve (producer. keys are ignored); repeatable; VIGIL_KAFKA_* variables override it (env VIGIL_KAFKA_CONFIG; docs/kafka-settings.md).")
    var kafkaConfig: [String] = Environment.optionalString(KafkaSettings.configVariable).map { [$0] } ?? []

    /// The librdkafka settings of the history readers.
    func kafkaSettings() -> KafkaSettings {
        KafkaSettings(files: kafkaConfig, environment: Environment.variables, commandLine: kafkaProperties)
    }

    @Option(help: "Read feature records from this JSON-lines file instead of Kafka.")
    var featuresFile: String?

    @Option(help: "Read labels from this JSON-lines file instead of Kafka.")
    var labelsFile: String?

    @Option(help: "Feature records of a backfill ('vigil backfill --out-topic'), read before the feature records: for a transaction in both, the backfilled record is used (the current catalog's features). Repeatable.")
    var backfillTopic: [String] = []

    @Option(help: "As --backfill-topic, from a JSON-lines file ('vigil backfill --out'). Repeatable.")
    var backfillFile: [String] = []

    @Option(help: "Ground truth of generated traffic: JSON lines {\"transaction_id\":...,\"pattern\":...} ('none' for genuine); the summary then shows recall per fraud pattern for both models. Never used to fit.")
    var truth: String?

    @Option(help: "Feature catalog to fit on: 'auto' (v2 when every record is v2, else the v1 features), '1', or '2' (only the v2 records).")
    var catalog = "auto"

    @Option(help: "Unlabelled transactions younger than this many days (before the newest event time) are not used as legitimate.")
    var maturityDays = 30.0

    @Option(help: "Share of examples, the newest by event time, held out for validation.")
    var validationFraction = 0.2

    @Option(help: "L2 penalty on the standardized weights (the loss is summed over examples).")
    var l2 = 1.0

    @Option(help: "Block threshold: the lowest whose validation precision reaches this.")
    var blockPrecision = 0.9

    @Option(help: "Review threshold: at most this share of validation-period transactions is reviewed or blocked.")
    var alertBudget = 0.02

    @Option(name: .customLong("min-pr-auc-gain"), help: "Promote only if the candidate's validation PR AUC is at least the current model's plus this (may be negative).")
    var minPRAUCGain = 0.0

    @Option(help: "Promote only if the candidate's alert rate on the validation slice is at most this many times the serving model's ('inf': no relative bound); the review threshold is chosen for it. The absolute bound is --alert-budget.")
    var maxAlertGrowth = 1.25

    @Option(help: "Blocked transactions without a label: 'exclude' (unknown outcome) or 'negative'.")
    var blockedUnlabelled = "exclude"

    @Option(name: .customLong("transform"), help: "Override a feature's transform: NAME=identity|log1p|clip:MIN:MAX, repeatable.")
    var transformOverrides: [String] = []

    @Option(help: "The current model to compare with (default: the --promote-to file if it exists, else models/baseline.json).")
    var current: String?

    @Option(help: "Directory for candidate-<version>.json, written on every run.")
    var outputDir = "models"

    @Option(help: "Where a promoted candidate is copied (atomically); point 'vigil serve --model' here.")
    var promoteTo = "models/active.json"

    @Option(help: "Also publish a promoted candidate to this Redis HOST:PORT, from where every 'vigil serve --model-source redis' loads it; the current model to compare with is then the one published there.")
    var publishRedis: String?

    @Option(help: "Key prefix in Redis, as given to vigil serve (env VIGIL_REDIS_PREFIX).")
    var redisPrefix = Environment.string("VIGIL_REDIS_PREFIX", "vigil")

    @OptionGroup(title: "Redis authentication and TLS (with --publish-redis)")
    var redisSecurity: RedisSecurityOptions

    @Flag(help: "Publish a candidate that passes the gate to the shadow slot instead of promoting it: instances score it beside the active model; promote it later with 'vigil model promote-shadow'. Needs --publish-redis.")
    var promoteToShadow = false

    @Option(help: "Candidate version (default: the start time in UTC, like 2026-11-25T02-00-00Z).")
    var version: String?

    @Option(help: "Most Newton iterations.")
    var maxIterations = 50

    @Option(name: .customLong("max-examples"), help: "Most unlabelled transactions kept for training and validation; beyond it they are sampled by a hash of the transaction id and weighted (fraud, labelled and blocked transactions are always kept on top). Bounds memory.")
    var maxExamples = 2_000_000

    @Option(name: .customLong("transforms"), help: "'choose': pick each feature's transform (identity, log1p, clip at quantiles) on the newest part of the training slice, starting from the standard plan; 'standard': the standard plan as it is. --transform overrides win either way.")
    var transformChoice = "choose"

    @Flag(help: "Train and report, but write no file.")
    var dryRun = false

    @Option(help: ArgumentHelp("Write N synthetic feature records to --features-file and their labels to --labels-file, then exit.", visibility: .hidden))
    var synthesize: Int?

    @Option(help: ArgumentHelp("Event-time span of synthetic history in days.", visibility: .hidden))
    var synthesizeDays = 90.0

    @Option(help: ArgumentHelp("Seed of synthetic history.", visibility: .hidden))
    var seed: UInt64 = 42

    @Option(help: ArgumentHelp("Also write the synthetic history's ground truth (pattern per transaction, for --truth) to this file.", visibility: .hidden))
    var synthesizeTruth: String?

    func validate() throws {
        var problems = options().problems + kafkaSettings().problems
        if let n = synthesize {
            if n < 1 { problems.append("--synthesize must be >= 1") }
            if featuresFile == nil || labelsFile == nil { problems.append("--synthesize needs --features-file and --labels-file to write") }
            if !(synthesizeDays > 0) { problems.append("--synthesize-days must be > 0") }
        }
        if synthesize == nil, let current, !FileManager.default.fileExists(atPath: current) {
            problems.append("--current \(current) does not exist")
        }
        if let publishRedis, hostPort(publishRedis) == nil { problems.append("--publish-redis must be HOST:PORT, got '\(publishRedis)'") }
        if promoteToShadow, publishRedis == nil { problems.append("--promote-to-shadow needs --publish-redis") }
        if publishRedis != nil {
            let tls = redisSecurity.settings(problems: &problems).tls
            problems += tls?.problems ?? []
        }
        if redisPrefix.isEmpty || redisPrefix.contains(" ") { problems.append("--redis-prefix must be non-empty without spaces") }
        if CatalogChoice(rawValue: catalog) == nil { problems.append("--catalog must be auto, 1 or 2, got '\(catalog)'") }
        if let truth, !FileManager.default.fileExists(atPath: truth) { problems.append("--truth \(truth) does not exist") }
        for file in backfillFile where !FileManager.default.fileExists(atPath: file) { problems.append("--backfill-file \(file) does not exist") }
        if !["exclude", "negative"].contains(blockedUnlabelled) { problems.append("--blocked-unlabelled must be exclude or negative") }
        if let version, version.isEmpty || version.utf8.count > 128 || version.contains("/") {
            problems.append("--version must be 1-128 bytes without '/'")
        }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    /// Training options from the flags, with every problem found.
    func options() -> (options: TrainingOptions, problems: [String]) {
        var o = TrainingOptions()
        o.maturityDays = maturityDays
        o.validationFraction = validationFraction
        o.l2 = l2
        o.blockPrecision = blockPrecision
        o.alertBudget = alertBudget
        o.maxAlertGrowth = maxAlertGrowth
        o.minPRAUCGain = minPRAUCGain
        o.blockedUnlabelled = BlockedPolicy(rawValue: blockedUnlabelled) ?? .exclude
        o.maxIterations = maxIterations
        o.maxSampledTransactions = maxExamples
        var problems: [String] = []
        switch transformChoice {
        case "choose": o.chooseTransforms = true
        case "standard": o.chooseTransforms = false
        default: problems.append("--transforms must be 'choose' or 'standard', got '\(transformChoice)'")
        }
        o.catalog = CatalogChoice(rawValue: catalog) ?? .auto
        for override in transformOverrides {
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let feature = Feature(name: parts[0]), let transform = FeatureTransform(parts[1]) else {
                problems.append("--transform must be NAME=identity|log1p|clip:MIN:MAX with a catalog feature name, got '\(override)'")
                continue
            }
            o.transforms[feature] = transform
            o.fixedTransforms.insert(feature)
        }
        problems.append(contentsOf: o.problems())
        return (o, problems)
    }

    func run() async throws {
        // Reading blocks (files, librdkafka) and fitting is CPU-bound: both run on a thread of their own, off
        // Swift's cooperative pool.
        let command = self
        try await runOnOwnThread(name: "vigil-train") {
            if let n = command.synthesize { try command.writeSynthetic(count: n) } else { try command.train() }
        }
    }

    // MARK: - Training

    private func train() throws {
        let started = Date()
        let startedMs = Int64(started.timeIntervalSince1970 * 1000)
        let candidateVersion = version ?? UTCTime.version(startedMs)
        let channel = try publishRedis.flatMap(hostPort).map {
            ModelChannel(endpoint: try redisSecurity.endpoint(host: $0.0, port: $0.1), prefix: redisPrefix, timeoutMs: 5000)
        }
        var currentPath = current ?? (FileManager.default.fileExists(atPath: promoteTo) ? promoteTo : "models/baseline.json")
        var currentModel: ModelFile?
        if current == nil, let channel {
            // What serves is what is published; compare with that (an unreachable Redis stops the run here, before
            // any work, rather than after training when the result could not be published).
            do {
                if let published = try channel.fetch(.active) {
                    currentModel = try ModelFile.parse(Data(published.json))
                    _ = try CompiledModel(currentModel!)
                    currentPath = "redis \(channel.address) \(channel.jsonKey(.active))"
                }
            } catch {
                throw ValidationError("the model published in redis \(channel.address) cannot be read: \(error)")
            }
        }
        if currentModel == nil {
            do {
                currentModel = try ModelOutput.readIfPresent(currentPath)
            } catch {
                throw ValidationError("the current model \(currentPath) cannot be loaded: \(error)")
            }
            if currentModel == nil, current != nil { throw ValidationError("the current model \(currentPath) does not exist") }
        }

        let settings = kafkaSettings()
        if !settings.problems.isEmpty { throw ValidationError(settings.problems.joined(separator: "\n")) }
        let properties = settings.consumer
        let logged: any HistorySource = featuresFile.map { JSONLinesFile(path: $0) }
            ?? KafkaTopicHistory(brokers: brokers, topic: featuresTopic, properties: properties)
        // Backfilled records first: the first record of a transaction is the one kept.
        let backfills: [any HistorySource] = backfillFile.map { JSONLinesFile(path: $0) as any HistorySource }
            + backfillTopic.map { KafkaTopicHistory(brokers: brokers, topic: $0, properties: properties) as any HistorySource }
        let features: any HistorySource = ConcatenatedHistory(backfills + [logged])
        let labels: any HistorySource = labelsFile.map { JSONLinesFile(path: $0) }
            ?? KafkaTopicHistory(brokers: brokers, topic: labelsTopic, properties: properties)

        let console = ProgressConsole()
        if featuresFile == nil || labelsFile == nil { for warning in settings.warnings { console.note("warning: \(warning)") } }
        console.note("vigil train: candidate \(candidateVersion); current model \(currentModel.map { "\($0.version) (\(currentPath))" } ?? "none")")
        let job = TrainingJob(options: options().options, version: candidateVersion, startedAtMs: startedMs)
        let outcome = try job.run(
            features: features, labels: labels, truth: truth.map { JSONLinesFile(path: $0) }, current: currentModel
        ) { console.show($0) }
        console.finish()

        var written: [String] = []
        var publishFailure: (any Error)?
        if !dryRun {
            let candidatePath = (outputDir as NSString).appendingPathComponent("candidate-\(candidateVersion).json")
            try ModelOutput.write(outcome.model, to: candidatePath)
            written.append("wrote \(candidatePath)")
            if outcome.promoted, !promoteToShadow {
                try ModelOutput.write(outcome.model, to: promoteTo)
                written.append("promoted to \(promoteTo)")
            } else {
                written.append("\(promoteTo) unchanged")
            }
            if outcome.promoted, let channel {
                let slot: ModelSlot = promoteToShadow ? .shadow : .active
                do {
                    try channel.publish(Array(outcome.model.encoded()), to: slot)
                    written.append("published to redis \(channel.address) \(channel.jsonKey(slot))"
                        + (slot == .shadow ? " (scored in shadow; promote with 'vigil model promote-shadow')" : ""))
                } catch {
                    written.append("NOT published to redis \(channel.address): \(error)")
                    publishFailure = error
                }
            }
        } else {
            written.append("dry run: no file written")
        }
        print(outcome.summary())
        print("")
        print(written.joined(separator: "; "))
        let seconds = Date().timeIntervalSince(started)
        print("took \(String(format: "%.1f", seconds)) s (\(console.stageTimes())), peak memory \(peakMemoryMB()) MB (this process)")
        if let publishFailure { throw ValidationError("publishing the candidate to redis failed: \(publishFailure)") }
        if let condition = outcome.result.promotion.decidedBy { throw ExitCode(Self.exitStatus(keptBy: condition)) }
    }

    /// The exit status of a run that kept the serving model, naming the condition that decided (docs/retraining.md).
    static func exitStatus(keptBy condition: GateCondition) -> Int32 {
        switch condition {
        case .prAUC: 3
        case .alertRate: 4
        case .blockPrecision: 5
        case .evidence: 6
        }
    }

    // MARK: - Synthetic history

    /// Realistic history for measurements and demos: generated card traffic (VigilTraffic) scored by the current
    /// model through the service's own scoring step, written as the service writes feature records, with labels as
    /// the chargeback and case systems would send them (see docs/retraining.md).
    private func writeSynthetic(count: Int) throws {
        let modelPath = current ?? "models/baseline.json"
        guard let modelFile = try ModelOutput.readIfPresent(modelPath) else { throw ValidationError("no model at \(modelPath)") }
        let model = try CompiledModel(modelFile)
        var profile = TrafficProfile()
        profile.seed = seed
        profile.cards = max(1000, count / 50)
        profile.fraudCardFraction = 0.005
        profile.malformedFraction = 0
        profile.lateFraction = 0
        var generator = TrafficGenerator(profile: profile)
        let config = FeatureConfig()
        let step = ScoringStep(config: config)
        var encoder = OutputEncoder()
        var random = SplitMix64(seed: seed ^ 0x5EED)
        var states: [String: CardState] = [:]
        var clock = PartitionClock()

        let day: Int64 = 86_400_000
        let endMs: Int64 = 1_795_564_800_000  // 2026-11-25T00:00:00Z
        let spanMs = Int64(synthesizeDays * Double(day))
        let startMs = endMs - spanMs
        let features = try LineWriter(path: featuresFile!)
        let labels = try LineWriter(path: labelsFile!)
        let truths = try synthesizeTruth.map { try LineWriter(path: $0) }
        var written = 0, duplicates = 0, labelCount = 0, fraud = 0
        var generated = 0
        let console = ProgressConsole()
        console.show(.stage("writing synthetic history"))
        while written < count {
            let nowMs = startMs + spanMs * Int64(generated) / Int64(count)
            generated += 1
            let message = generator.next(nowMs: nowMs)
            guard case .success(let tx) = TransactionDecoder.decode(value: message.value, key: message.key) else { continue }
            var state = states[tx.cardId] ?? CardState()
            guard case .decided(let decision) = step.process(tx, state: &state, clock: &clock, model: model, nowMs: nowMs, referenceMs: nowMs) else { continue }
            states[tx.cardId] = state
            let record = encoder.featureRecord(decision)
            features.write(record)
            written += 1
            if random.unit() < 0.005, written < count {  // at-least-once redelivery
                features.write(record)
                written += 1
                duplicates += 1
            }
            guard let truth = message.truth else { continue }
            if truth.isFraud { fraud += 1 }
            truths?.write(Array("{\"transaction_id\":\"\(truth.transactionId)\",\"pattern\":\"\(truth.isFraud ? truth.pattern?.rawValue ?? "unknown" : "none")\"}".utf8))
            // Chargebacks arrive 2-60 days later for fraud that went through; blocked fraud rarely gets one (the
            // case system confirms 10%); reviews are labelled by analysts within 3 days, either way.
            var reportedAt: Int64?
            if decision.verdict == .review {
                reportedAt = tx.eventTimeMs + Int64(random.unit() * 3 * Double(day))
            } else if truth.isFraud {
                if decision.verdict == .approve {
                    reportedAt = tx.eventTimeMs + 2 * day + Int64(random.unit() * 58 * Double(day))
                } else if random.unit() < 0.1 {
                    reportedAt = tx.eventTimeMs + day
                }
            }
            if let reportedAt, reportedAt <= endMs {
                labels.write(TrafficGenerator.labelJSON(for: truth, reportedAtMs: reportedAt))
                labelCount += 1
            }
            if written % 100_000 == 0 {
                console.show(.reading("synthetic", ReadProgress(source: "synthesize", records: written, bytes: 0, expectedRecords: Int64(count))))
            }
        }
        // Labels for transactions the history does not have (another system's ids, or records lost upstream).
        for i in 0..<max(1, count / 100_000) {
            let truth = GroundTruth(transactionId: "tx-unknown-\(i)", cardId: "card-unknown", isFraud: true, pattern: nil, eventTimeMs: endMs - day)
            labels.write(TrafficGenerator.labelJSON(for: truth, reportedAtMs: endMs))
            labelCount += 1
        }
        try features.close()
        try labels.close()
        try truths?.close()
        console.finish()
        print("wrote \(written) feature records (\(duplicates) duplicates, \(fraud) fraud) to \(featuresFile!) and \(labelCount) labels to \(labelsFile!), event time \(UTCTime.iso(startMs)) .. \(UTCTime.iso(endMs)), scored by \(model.version)")
    }
}

/// Progress on stderr: stage changes at once, counters at most once a second.
final class ProgressConsole {
    private var lastPrint = Date.distantPast
    private var stage: (name: String, started: Date)?
    private var timings: [(String, Double)] = []
    private var pending: String?

    func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    func show(_ progress: TrainingProgress) {
        switch progress {
        case .stage(let name):
            flushPending()
            endStage()
            stage = (name, Date())
            note("\(name)...")
        case .reading(let what, let p):
            let started = stage?.started ?? Date()
            let elapsed = max(Date().timeIntervalSince(started), 1e-3)
            var text = "  \(what): \(p.records) records"
            if p.bytes > 0 { text += ", \(String(format: "%.1f", Double(p.bytes) / 1e6)) MB" }
            if let total = p.expectedBytes, total > 0 {
                text += " of \(String(format: "%.1f", Double(total) / 1e6)) MB (\(Int(Double(p.bytes) * 100 / Double(total)))%)"
            } else if let total = p.expectedRecords, total > 0 {
                text += " of \(total) (\(Int(Double(p.records) * 100 / Double(total)))%)"
            }
            text += ", \(Int(Double(p.records) / elapsed)) records/s"
            emit(text, force: p.finished)
        case .choosing(let what):
            emit("  \(what)", force: true)
        case .fitting(let f):
            emit("  iteration \(f.iteration): objective \(String(format: "%.6g", f.objective)), largest gradient \(String(format: "%.3g", f.gradientNorm)), step \(f.step)", force: false)
        }
    }

    func finish() {
        flushPending()
        endStage()
    }

    func stageTimes() -> String {
        timings.map { "\($0.0) \(String(format: "%.1f", $0.1)) s" }.joined(separator: ", ")
    }

    private func emit(_ text: String, force: Bool) {
        if force || Date().timeIntervalSince(lastPrint) >= 1 {
            note(text)
            lastPrint = Date()
            pending = nil
        } else {
            pending = text
        }
    }

    private func flushPending() {
        if let pending { note(pending) }
        pending = nil
    }

    private func endStage() {
        if let stage { timings.append((stage.name, Date().timeIntervalSince(stage.started))) }
        stage = nil
    }
}

/// Buffered appends of lines to a file.
final class LineWriter {
    private let handle: UnsafeMutablePointer<FILE>
    private let path: String

    init(path: String) throws {
        guard let handle = fopen(path, "w") else {
            throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        self.handle = handle
        self.path = path
        setvbuf(handle, nil, _IOFBF, 1 << 20)
    }

    func write(_ line: [UInt8]) {
        line.withUnsafeBytes { write($0) }
    }

    func write(_ line: UnsafeRawBufferPointer) {
        _ = fwrite(line.baseAddress, 1, line.count, handle)
        fputc(0x0A, handle)
    }

    func close() throws {
        let failed = ferror(handle) != 0
        guard fclose(handle) == 0, !failed else { throw ValidationError("writing \(path) failed") }
    }
}

/// Peak resident memory of this process in MB: `VmHWM` of /proc/self/status, the high-water mark of this
/// process's own address space. Not `getrusage`'s `ru_maxrss`: Linux carries it across `execve`, so a `vigil train`
/// started by a large parent (a test runner, a shell's fork of a big process) reported the parent's peak.
func peakMemoryMB() -> Int {
    #if os(Linux)
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kB = Int(line.dropFirst("VmHWM:".count).split(whereSeparator: \.isWhitespace).first ?? "")
    {
        return kB / 1024
    }
    return -1
    #else
    var usage = rusage()
    getrusage(RUSAGE_SELF, &usage)
    return Int(usage.ru_maxrss) / (1024 * 1024)  // bytes on Darwin
    #endif
}
