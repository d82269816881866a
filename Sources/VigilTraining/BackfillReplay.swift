import VigilCore

/// The merchant-risk snapshots as the stream served them over time: a transaction is scored with the newest
/// snapshot published before it, i.e. whose cut plus the publication delay is at or before its event time.
/// Event time stands in for the moment the live service decided it (seconds apart for live traffic). Pure.
public struct MerchantRiskTimeline: Sendable {
    /// Sorted by cut, one per cut.
    public let snapshots: [MerchantRiskSnapshot]
    public let publishDelayMs: Int64

    public init(_ snapshots: [MerchantRiskSnapshot], publishDelayMs: Int64 = 0) {
        var byCut: [Int64: MerchantRiskSnapshot] = [:]
        for s in snapshots { byCut[s.cut.cutMs] = s }  // the last given for a cut wins
        self.snapshots = byCut.values.sorted { $0.cut.cutMs < $1.cut.cutMs }
        self.publishDelayMs = publishDelayMs
    }

    /// The snapshot serving at `eventTimeMs`, nil before the first was published.
    public func served(atMs eventTimeMs: Int64) -> MerchantRiskSnapshot? {
        var low = 0, high = snapshots.count
        while low < high {
            let mid = (low + high) / 2
            if snapshots[mid].cut.cutMs + publishDelayMs <= eventTimeMs { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : snapshots[low - 1]
    }
}

/// `vigil backfill`'s engine: recomputes the feature records of a transaction history with the current catalog,
/// exactly as `vigil serve` computes them — the same decoder, `ScoringStep`, card state per input partition, one
/// clock (watermark) per partition, the same encoder — so the running catalog's records are identical to what the
/// service logged for the same history (docs/backfill.md). It never touches live state: everything is in memory.
///
/// Memory is bounded by the cards active within the state TTL, not by the history: a card not written for longer
/// than the TTL is forgotten, as its Redis key expires in the service. The service's clock for that is the wall
/// clock; the replay's is each record's Kafka timestamp (the producer's clock when it was published, seconds before
/// the service read it), or its event time for a record without one (an archive line). Pure: bytes in, bytes out.
public struct BackfillReplay {
    public struct Counts: Sendable, Equatable {
        public var read = 0
        public var decided = 0
        /// Beyond the allowed lateness: the service sends them to `fraud.late`, with no feature record.
        public var late = 0
        /// Refused (the service's `fraud.dlq`), by reason code.
        public var rejected: [String: Int] = [:]
        /// Decided with a merchant-risk snapshot (catalog 2).
        public var withMerchantSnapshot = 0
        /// Cards forgotten after the state TTL without an event.
        public var cardsForgotten = 0
        public var rejectedTotal: Int { rejected.values.reduce(0, +) }
        public init() {}
    }

    struct Card {
        var state: CardState
        /// When the service last wrote the card (which renews its Redis key's TTL): the record's Kafka timestamp,
        /// or its event time when it has none.
        var lastWriteMs: Int64
    }

    public let config: FeatureConfig
    public let catalog: FeatureCatalog
    public let model: CompiledModel
    public let merchants: MerchantRiskTimeline?
    public private(set) var counts = Counts()
    /// Cards held now, across partitions.
    public private(set) var cardsHeld = 0
    let step: ScoringStep
    var encoder: OutputEncoder
    var clocks: [Int32: PartitionClock] = [:]
    /// Per partition, the newest record time seen (Kafka timestamp, or event time without one).
    var newestWriteMs: [Int32: Int64] = [:]
    var cards: [Int32: [String: Card]] = [:]
    let stateTTLMs: Int64
    var sinceSweep = 0
    /// How archive lines (no Kafka partition of their own) are spread over partitions: by card_id, as a keyed
    /// publisher spreads them.
    let archivePartitioner: Partitioner
    let archivePartitions: Int32

    /// `stateTTLMs`: how long a card without events is kept (docs/state.md: 30 days plus the lateness bounds).
    public init(
        config: FeatureConfig, catalog: FeatureCatalog, model: CompiledModel, merchants: MerchantRiskTimeline? = nil,
        stateTTLMs: Int64? = nil, archivePartitioner: Partitioner = .murmur2, archivePartitions: Int32 = 1
    ) {
        precondition(archivePartitions >= 1)
        self.archivePartitioner = archivePartitioner
        self.archivePartitions = archivePartitions
        self.config = config
        self.catalog = catalog
        self.model = model
        self.merchants = catalog == .v1 ? nil : merchants
        step = ScoringStep(config: config)
        encoder = OutputEncoder(catalog: catalog)
        self.stateTTLMs = stateTTLMs ?? (30 * 86_400_000 + config.latenessMs + config.outOfOrdernessMs)
    }

    /// What became of one input message.
    public enum Outcome: Equatable {
        case decided
        case late
        case rejected(String)
    }

    /// Processes one message of `partition`, in the partition's offset order; `partition` nil: a line of an archive
    /// of message values, which stands for a message keyed by its card_id (no key to compare) in the partition the
    /// archive partitioner gives that card_id. `nowMs` is the wall clock (the future bound is measured from the
    /// earlier of it and `timestampMs`, as in the service); a feature record is handed to `emit` with its
    /// transaction id (the bytes are valid only inside the call).
    @discardableResult
    public mutating func process(
        value: UnsafeRawBufferPointer, key: [UInt8]?, partition: Int32?, timestampMs: Int64?, nowMs: Int64,
        emit: (_ record: UnsafeRawBufferPointer, _ transactionId: String) throws -> Void
    ) rethrows -> Outcome {
        counts.read += 1
        sinceSweep += 1
        if sinceSweep >= 65_536 { sweep() }
        let decoded = partition == nil ? TransactionDecoder.decodeArchived(value: value) : Self.decode(value, key: key)
        let tx: Transaction
        switch decoded {
        case .failure(let reason):
            counts.rejected[reason.code, default: 0] += 1
            return .rejected(reason.code)
        case .success(let t): tx = t
        }
        let partition = partition ?? archivePartition(of: tx.cardId)
        var merchant = MerchantRiskFeatures.noSnapshot
        var merchantVersion: String?
        if let merchants, let snapshot = merchants.served(atMs: tx.eventTimeMs) {
            merchant = MerchantRiskFeatures(merchant: snapshot.counts(of: tx.merchantId), totals: snapshot.totals)
            merchantVersion = snapshot.version
        }
        var clock = clocks[partition] ?? PartitionClock()
        let writeMs = timestampMs ?? tx.eventTimeMs
        newestWriteMs[partition] = max(newestWriteMs[partition] ?? .min, writeMs)
        var card = Card(state: CardState(), lastWriteMs: writeMs)
        if let held = cards[partition]?[tx.cardId] {
            if writeMs - held.lastWriteMs > stateTTLMs {
                // Its Redis key would have expired: the service starts the card afresh.
                cards[partition]![tx.cardId] = nil
                cardsHeld -= 1
                counts.cardsForgotten += 1
            } else {
                card = held
            }
        }
        let outcome = step.process(
            tx, state: &card.state, clock: &clock, model: model, nowMs: nowMs,
            referenceMs: ScoringStep.referenceMs(nowMs: nowMs, messageTimestampMs: timestampMs),
            merchant: merchant, merchantRiskVersion: merchantVersion)
        clocks[partition] = clock
        switch outcome {
        case .decided(let decision):
            card.lastWriteMs = max(card.lastWriteMs, writeMs)
            if cards[partition, default: [:]].updateValue(card, forKey: tx.cardId) == nil { cardsHeld += 1 }
            counts.decided += 1
            if merchantVersion != nil { counts.withMerchantSnapshot += 1 }
            try encoder.withFeatureRecord(decision) { try emit($0, tx.transactionId) }
            return .decided
        case .late:
            counts.late += 1
            return .late
        case .rejected(let reason):
            counts.rejected[reason.code, default: 0] += 1
            return .rejected(reason.code)
        }
    }

    /// A message as the service decodes it, without copying it.
    public static func decode(_ value: UnsafeRawBufferPointer, key: [UInt8]?) -> Result<Transaction, RejectReason> {
        guard let key else { return TransactionDecoder.decode(value: value, key: nil) }
        return key.withUnsafeBytes { TransactionDecoder.decode(value: value, key: $0) }
    }

    func archivePartition(of cardId: String) -> Int32 {
        guard archivePartitions > 1 else { return 0 }
        var id = cardId
        return id.withUTF8 { archivePartitioner.partition(of: UnsafeRawBufferPointer($0), partitionCount: archivePartitions) }
    }

    /// Counts a message too long to have been read whole (longer than any acceptable transaction): refused as
    /// `too_large`, as the service refuses it.
    public mutating func countTooLarge() {
        counts.read += 1
        counts.rejected[RejectReason.tooLarge.code, default: 0] += 1
    }

    /// Forgets the cards last written more than the state TTL before their partition's newest record.
    public mutating func sweep() {
        sinceSweep = 0
        for (partition, held) in cards {
            guard let newest = newestWriteMs[partition] else { continue }
            let before = held.count
            let kept = held.filter { newest - $0.value.lastWriteMs <= stateTTLMs }
            guard kept.count < before else { continue }
            cards[partition] = kept
            counts.cardsForgotten += before - kept.count
            cardsHeld -= before - kept.count
        }
    }
}
