import ArgumentParser
import Foundation
import Kafka
import VigilCore
import VigilService
import VigilTraffic
import VigilTraining

/// `vigil backfill`: recomputes feature records for history by replaying the retained transactions (the Kappa way),
/// with the current catalog, exactly as `vigil serve` computes them. See docs/backfill.md.
struct Backfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute feature records for history by replaying the transactions topic (or a JSON-lines archive) "
            + "with the current catalog, exactly as vigil serve computes them, into a file or a topic of your choice. "
            + "Never touches the live state, offsets or outputs."
    )

    @OptionGroup(title: "Service configuration (as for vigil serve: the same flags and VIGIL_* variables give the same features; brokers, input topic, model, catalog, lateness bounds)")
    var service: PipelineOptions

    @Option(help: "Replay this JSON-lines archive of transactions (one message value per line) instead of the input topic.")
    var transactionsFile: String?

    @Option(help: "Partitions the archive's transactions were spread over, by card_id with --file-partitioner: each partition has its own watermark, as in the topic (default 1).")
    var filePartitions: Int32 = 1

    @Option(help: "Partitioner of --file-partitions: murmur2 (Java clients' default) or crc32 (librdkafka's default).")
    var filePartitioner = "murmur2"

    @Option(help: "Write the feature records to this JSON-lines file.")
    var out: String?

    @Option(help: "Write the feature records to this Kafka topic (key transaction_id), which must exist and must not be one of the service's topics.")
    var outTopic: String?

    @Option(name: .customLong("merchant-risk-table"), help: "A merchant-risk snapshot file written by 'vigil merchant-risk --out', repeatable: each transaction is scored with the newest one whose cut (plus --merchant-risk-publish-delay-ms) is at or before its event time, as the stream served them. Without any, merchant features are the no-snapshot defaults (merchant_risk_version \"none\").")
    var merchantRiskTables: [String] = []

    @Option(help: "How long after its cut a snapshot started serving, in ms (the merchant-risk job's run time plus publication).")
    var merchantRiskPublishDelayMs: Int64 = 0

    @Option(name: .customLong("rebuild-merchant-risk-labels-file"), help: "Rebuild the merchant-risk snapshots that would have served the history instead of reading tables: run the merchant-risk job at every cut (--merchant-risk-every-hours, aligned to UTC midnight) over the replayed transactions and these labels, each cut counting only labels reported before it (their reported_at_ms). Repeatable.")
    var rebuildLabelsFiles: [String] = []

    @Option(help: "With --rebuild-merchant-risk-labels-file: hours between cuts (24: the daily CronJob).")
    var merchantRiskEveryHours = 24.0

    @Option(help: "With --rebuild-merchant-risk-labels-file: the label delay D of each cut, in days, as for vigil merchant-risk.")
    var merchantRiskLabelDelayDays = 7.0

    @Option(help: "A file recording the catalog the last complete backfill computed: if it names the catalog served now, exit at once (nothing to do); after a complete run, it is written (atomically). For schedulers that run backfill before every training: it replays only after a catalog change.")
    var doneMarker: String?

    @Option(help: ArgumentHelp("Write N generated transactions (100,000 cards, 90 days, with late and malformed ones) to --transactions-file, then exit.", visibility: .hidden))
    var synthesize: Int?

    func validate() throws {
        var problems: [String] = []
        if let synthesize {
            if synthesize < 1 || transactionsFile == nil { throw ValidationError("--synthesize N needs N >= 1 and --transactions-file to write") }
            return
        }
        if (out == nil) == (outTopic == nil) { problems.append("give exactly one of --out FILE and --out-topic TOPIC") }
        if filePartitions < 1 { problems.append("--file-partitions must be >= 1") }
        if Partitioner(rawValue: filePartitioner) == nil || filePartitioner == "auto" || filePartitioner == "none" {
            problems.append("--file-partitioner must be murmur2 or crc32, got '\(filePartitioner)'")
        }
        if let transactionsFile, !FileManager.default.fileExists(atPath: transactionsFile) {
            problems.append("--transactions-file \(transactionsFile) does not exist")
        }
        for table in merchantRiskTables where !FileManager.default.fileExists(atPath: table) {
            problems.append("--merchant-risk-table \(table) does not exist")
        }
        if merchantRiskPublishDelayMs < 0 { problems.append("--merchant-risk-publish-delay-ms must be >= 0") }
        if !rebuildLabelsFiles.isEmpty, !merchantRiskTables.isEmpty {
            problems.append("give either --merchant-risk-table or --rebuild-merchant-risk-labels-file, not both")
        }
        for file in rebuildLabelsFiles where !FileManager.default.fileExists(atPath: file) {
            problems.append("--rebuild-merchant-risk-labels-file \(file) does not exist")
        }
        if !(merchantRiskEveryHours >= 1 && merchantRiskEveryHours <= 24 * 31) { problems.append("--merchant-risk-every-hours must be 1-744") }
        if !(merchantRiskLabelDelayDays >= 0 && merchantRiskLabelDelayDays <= 365) { problems.append("--merchant-risk-label-delay-days must be 0-365") }
        if !problems.isEmpty { throw ValidationError(problems.joined(separator: "\n")) }
    }

    func run() async throws {
        let command = self
        try await runOnOwnThread(name: "vigil-backfill") {
            if let n = command.synthesize { try command.writeSynthetic(count: n) } else { try command.backfill() }
        }
    }

    private func backfill() throws {
        let started = Date()
        let config = try service.config()
        if let outTopic {
            if ([config.topics.transactions] + config.topics.outputs + [config.topics.shadow]).contains(outTopic) {
                throw ValidationError("--out-topic \(outTopic) is one of the service's topics: backfill never writes to live outputs; give a topic of its own")
            }
        }
        if let out, let source = transactionsFile, URL(fileURLWithPath: out).standardized == URL(fileURLWithPath: source).standardized {
            throw ValidationError("--out would overwrite --transactions-file")
        }
        // Loaded as the service loads it: a model naming a feature the catalog does not serve is refused.
        let model: CompiledModel
        do { model = try ModelHolder(path: config.modelPath, catalog: config.featureCatalog).model } catch {
            throw ValidationError("the model \(config.modelPath) cannot be loaded under feature catalog \(config.featureCatalog.rawValue): \(error)")
        }

        let console = ProgressConsole()
        let marker = "catalog \(config.featureCatalog.rawValue)"
        if let doneMarker, let done = try? String(contentsOfFile: doneMarker, encoding: .utf8),
            done.split(separator: "\n").first.map(String.init) == marker
        {
            print("backfill: nothing to do, \(doneMarker) says the history was backfilled for \(marker) (\(done.split(separator: "\n").dropFirst().first ?? ""))")
            return
        }
        var snapshots: [MerchantRiskSnapshot] = []
        for table in merchantRiskTables {
            do { snapshots.append(try MerchantRiskSnapshot.read(from: JSONLinesFile(path: table))) } catch {
                throw ValidationError("the merchant-risk table \(table) cannot be read: \(error)")
            }
        }
        let source: any HistorySource = transactionsFile.map { JSONLinesFile(path: $0, maxLineBytes: 64 * 1024) }
            ?? KafkaTopicHistory(brokers: config.brokers, topic: config.topics.transactions, properties: config.kafka.consumer)
        if !rebuildLabelsFiles.isEmpty, config.featureCatalog != .v1 {
            snapshots = try rebuildSnapshots(source: source, console: console)
        }
        if config.featureCatalog == .v1, !snapshots.isEmpty || !rebuildLabelsFiles.isEmpty {
            console.note("warning: feature catalog 1 has no merchant features; the merchant-risk tables are ignored")
        }
        let timeline = snapshots.isEmpty ? nil : MerchantRiskTimeline(snapshots, publishDelayMs: merchantRiskPublishDelayMs)
        var replay = BackfillReplay(
            config: config.features, catalog: config.featureCatalog, model: model, merchants: timeline,
            archivePartitioner: Partitioner(rawValue: filePartitioner) ?? .murmur2, archivePartitions: filePartitions)

        let sink = try FeatureSink(path: out, topic: outTopic, brokers: config.brokers, properties: config.kafka.producer)
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        console.note("vigil backfill: catalog \(config.featureCatalog.rawValue), model \(model.version), from \(transactionsFile ?? "kafka:\(config.topics.transactions)") to \(out ?? "kafka:\(outTopic!)")"
            + (timeline.map { ", \($0.snapshots.count) merchant-risk snapshots" } ?? ""))
        console.show(.stage("replaying"))
        let summary = try source.read({ record in
            if record.isTruncated {
                // Longer than any acceptable transaction (16 KiB): the service refuses it as too large.
                replay.countTooLarge()
                return
            }
            try replay.process(
                value: record.bytes, key: record.key, partition: Self.partition(record), timestampMs: record.timestampMs,
                nowMs: nowMs
            ) { bytes, id in
                try sink.write(bytes, key: id)
            }
        }, progress: { console.show(.reading("transactions", $0)) })
        try sink.close()
        console.finish()

        if let doneMarker {
            let text = "\(marker)\nmodel \(model.version), \(replay.counts.decided) records to \(out ?? "kafka:\(outTopic!)"), finished \(UTCTime.iso(Int64(Date().timeIntervalSince1970 * 1000)))\n"
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: doneMarker), options: .atomic) } catch {
                throw ValidationError("the backfill is complete but \(doneMarker) cannot be written: \(error)")
            }
        }
        let c = replay.counts
        let seconds = Date().timeIntervalSince(started)
        let rejected = c.rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        print("""
            backfill: \(c.read) transactions from \(summary.description)
              feature records  \(c.decided) written to \(out ?? "kafka:\(outTopic!)") (catalog \(config.featureCatalog.rawValue), model \(model.version)\(timeline == nil ? "" : ", \(c.withMerchantSnapshot) with a merchant-risk snapshot"))
              late             \(c.late) (no feature record, as in the service: fraud.late)
              refused          \(c.rejectedTotal)\(rejected.isEmpty ? "" : " (\(rejected))") (no feature record: fraud.dlq)
              cards            \(replay.cardsHeld) held at the end, \(c.cardsForgotten) forgotten after the state TTL
            took \(String(format: "%.1f", seconds)) s, \(Int(Double(c.read) / max(seconds, 1e-3))) transactions/s, peak memory \(peakMemoryMB()) MB (this process)
            """)
    }

    /// The snapshots the daily merchant-risk job would have published over the history: one run of the job per cut,
    /// over the same transactions and the labels reported before that cut (the job's own rule), so each is exactly
    /// the table that job would have computed then. One pass over the transactions finds the event-time range; then
    /// one pass per cut (the job's cost, times the cuts).
    private func rebuildSnapshots(source: any HistorySource, console: ProgressConsole) throws -> [MerchantRiskSnapshot] {
        console.show(.stage("finding the history's event-time range"))
        var first = Int64.max, last = Int64.min
        _ = try source.read({ record in
            let decoded = Self.partition(record) == nil
                ? TransactionDecoder.decodeArchived(value: record.bytes) : BackfillReplay.decode(record.bytes, key: record.key)
            guard !record.isTruncated, case .success(let tx) = decoded else { return }
            first = min(first, tx.eventTimeMs)
            last = max(last, tx.eventTimeMs)
        }, progress: { console.show(.reading("transactions", $0)) })
        guard first <= last else { return [] }
        let every = Int64((merchantRiskEveryHours * 3_600_000).rounded())
        let delay = Int64((merchantRiskLabelDelayDays * 86_400_000).rounded())
        // Cuts on the schedule (UTC midnight plus multiples of the interval) from the first after the history starts
        // (the one before would have counted nothing of it) to the last at or before its end.
        var cut = (first / every + 1) * every
        var cuts: [Int64] = []
        while cut <= last {
            cuts.append(cut)
            cut += every
        }
        let labels = rebuildLabelsFiles.map { JSONLinesFile(path: $0) as any HistorySource }
        var snapshots: [MerchantRiskSnapshot] = []
        for (i, cutMs) in cuts.enumerated() {
            console.show(.stage("merchant risk at \(UTCTime.iso(cutMs)) (\(i + 1) of \(cuts.count))"))
            let outcome = try MerchantRiskJob(cut: MerchantRiskCut(cutMs: cutMs, labelDelayMs: delay))
                .run(transactions: [source], labels: labels)
            snapshots.append(outcome.snapshot)
        }
        return snapshots
    }

    /// A transactions archive for measurements: generated card traffic over 90 days ending 2026-11-25.
    private func writeSynthetic(count: Int) throws {
        var profile = TrafficProfile()
        profile.cards = 100_000
        profile.seed = 42
        var generator = TrafficGenerator(profile: profile)
        let writer = try LineWriter(path: transactionsFile!)
        let endMs: Int64 = 1_795_564_800_000, spanMs: Int64 = 90 * 86_400_000
        let console = ProgressConsole()
        console.show(.stage("writing synthetic transactions"))
        for i in 0..<count {
            writer.write(generator.next(nowMs: endMs - spanMs + spanMs * Int64(i) / Int64(count)).value)
            if i % 100_000 == 0 {
                console.show(.reading("synthetic", ReadProgress(source: "synthesize", records: i, bytes: 0, expectedRecords: Int64(count))))
            }
        }
        try writer.close()
        console.finish()
        print("wrote \(count) transactions to \(transactionsFile!)")
    }

    /// The record's Kafka partition; nil for a line of an archive (the replay places it by its card_id).
    static func partition(_ record: RawRecord) -> Int32? {
        if case .message(let tp, _) = record.location { return tp.partition }
        return nil
    }
}

/// Where backfilled feature records go: a JSON-lines file or a Kafka topic (keyed by transaction id, as
/// `fraud.features` is).
final class FeatureSink {
    private let file: LineWriter?
    private let producer: KafkaProducer?
    private let topic: String?
    private var count = 0

    init(path: String?, topic: String?, brokers: String, properties: [String: String]) throws {
        if let path {
            file = try LineWriter(path: path)
            producer = nil
            self.topic = nil
        } else {
            var config = properties
            config["bootstrap.servers"] = brokers
            config["enable.idempotence"] = config["enable.idempotence"] ?? "true"
            config["linger.ms"] = config["linger.ms"] ?? "50"
            let p: KafkaProducer
            do { p = try KafkaProducer(config: config) } catch { throw ValidationError("creating the Kafka producer failed: \(error)") }
            do { try p.prepare(topics: [topic!], timeoutMs: 10_000) } catch {
                throw ValidationError("--out-topic \(topic!) is not usable (it must exist): \(error)")
            }
            producer = p
            file = nil
            self.topic = topic
        }
    }

    func write(_ record: UnsafeRawBufferPointer, key: String) throws {
        if let file {
            file.write(record)
            return
        }
        guard let producer, let topic else { return }
        var id = key
        let produced = id.withUTF8 { k in
            Result { () throws(KafkaError) in try producer.produce(topic: topic, key: UnsafeRawBufferPointer(k), value: record) }
        }
        if case .failure(let error) = produced { throw ValidationError("producing to \(topic) failed: \(error)") }
        count += 1
        if count % 10_000 == 0 {
            let outcome = producer.takeDeliveryOutcome()
            if outcome.failed > 0 { throw ValidationError("\(outcome.failed) feature records were not delivered to \(topic)") }
        }
    }

    func close() throws {
        if let file { try file.close() }
        if let producer, let topic {
            let outcome: DeliveryOutcome
            do { outcome = try producer.flush(timeoutMs: 60_000) } catch { throw ValidationError("delivering to \(topic) failed: \(error)") }
            if outcome.failed > 0 { throw ValidationError("\(outcome.failed) feature records were not delivered to \(topic)") }
        }
    }
}
