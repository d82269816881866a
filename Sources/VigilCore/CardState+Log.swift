/// A busy card's state (more than `CardState.indexThreshold` held events) is stored as two Redis values, so that
/// what a batch writes grows with the card's new events, not with its window: a **header** (format 4: every field
/// but the events, and the log's counts) and a **log** of its events, 26 bytes each in the order they were applied,
/// to which each batch appends its new events. Folded events stay in the log until it is rewritten: the log then
/// holds the held events in time order, and nothing else. That happens when the card enters the layout, and when
/// the folded events in the log are at least 64 and at least as many as the held ones, so each event is written
/// about twice, whatever the card's activity.
///
/// Reading it back: the log's events put in time order (stably: equal times in log order, as they were inserted)
/// are the folded events (the first `folded`) followed by the held events. That holds because folded events are
/// never younger than held ones (`apply` folds at once an event older than one the cap folded).
public struct EventLog: Sendable, Equatable {
    /// Events in the log, folded or held.
    public var count: Int
    /// How many of them (the oldest) are folded.
    public var folded: Int

    public init(count: Int, folded: Int) {
        self.count = count
        self.folded = folded
    }
}

/// What the store does to a card's log for a batch's changes.
public struct LogChange: Sendable, Equatable {
    /// Events to append, in the order they were applied.
    public var appended: [CardState.Event] = []
    /// Write the whole log anew (the held events in time order).
    public var rewrite = false
    /// The card left the layout: delete its log (its state is one blob again).
    public var dropped = false

    public init() {}
}

extension CardState {
    /// Folded events in the log that make it due for a rewrite (and at least as many as the held events).
    static let logRewriteMinimum = 64

    /// Starts a batch's changes: what the store writes is relative to the state as it is now (what the batches
    /// before it write).
    public mutating func beginBatch() { logChange = LogChange() }

    /// An applied event enters the log (before it is inserted or folded).
    mutating func logApplied(_ event: Event) {
        log!.count += 1
        if !logChange.rewrite { logChange.appended.append(event) }
    }

    /// After an event was applied: enters or leaves the log layout as the held events cross `indexThreshold`, and
    /// rewrites a log that holds too many folded events.
    mutating func updateLogLayout() {
        if events.count > CardState.indexThreshold {
            if let log, !logChange.rewrite,
               log.folded < max(CardState.logRewriteMinimum, events.count) { return }
            // New to the layout, due for a rewrite, or already rewritten in this batch: the log is the held events.
            log = EventLog(count: events.count, folded: 0)
            logChange.rewrite = true
            logChange.appended = []
            logChange.dropped = false
        } else if log != nil {
            log = nil
            logChange = LogChange()
            logChange.dropped = true
        }
    }

    /// The store's write for this state: the value of the card's key, and what to do to its log.
    public func stateWrite() -> CardStateWrite {
        guard log != nil else { return CardStateWrite(value: encoded(), log: logChange.dropped ? .delete : .keep) }
        if logChange.rewrite { return CardStateWrite(value: encodedHeader(), log: .replace(CardState.encodeLog(events[...]))) }
        return CardStateWrite(value: encodedHeader(), log: .append(CardState.encodeLog(logChange.appended[...])))
    }

    /// 26 bytes an event: time ms (i64), amount (f64 bits), merchant hash (u64), country (u16), little-endian.
    static func encodeLog(_ events: ArraySlice<Event>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(events.count * CardState.blobEventSize)
        for e in events {
            withUnsafeBytes(of: UInt64(bitPattern: e.timeMs).littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: e.amount.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: e.merchantHash.littleEndian) { out.append(contentsOf: $0) }
            withUnsafeBytes(of: e.country.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }
}

/// What the store writes for one card.
public struct CardStateWrite: Sendable, Equatable {
    public enum Log: Sendable, Equatable {
        /// Nothing to do (no log, or none before).
        case keep
        /// Append these bytes (and renew the log's TTL).
        case append([UInt8])
        /// Replace the log with these bytes.
        case replace([UInt8])
        /// Delete the log.
        case delete
    }

    /// The card key's value: the whole state, or a busy card's header.
    public var value: [UInt8]
    public var log: Log

    public init(value: [UInt8], log: Log = .keep) {
        self.value = value
        self.log = log
    }
}

extension CardState {
    /// Whether `value` (a card key's value) is a busy card's header, whose events are in its log.
    public static func isHeader(_ value: [UInt8]) -> Bool { value.first == formatVersionHeader }

    /// A busy card's header: the state without its events in format 3 (format byte 4), then the log's counts.
    public func encodedHeader() -> [UInt8] {
        var fields = self
        fields.events = []
        fields.index = nil
        var out = fields.encoded()
        out[0] = CardState.formatVersionHeader
        let log = log ?? EventLog(count: 0, folded: 0)
        withUnsafeBytes(of: UInt32(log.count).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(log.folded).littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// Reads a busy card back from its header and its log.
    public init(header: [UInt8], log bytes: [UInt8]) throws(CardStateDecodingError) {
        guard header.count >= 8, header.first == CardState.formatVersionHeader else { throw .truncated }
        let fields = header.withUnsafeBytes { buffer in
            Result { () throws(CardStateDecodingError) in
                try CardState(decoding: UnsafeRawBufferPointer(rebasing: buffer[..<(buffer.count - 8)]), asHeader: true)
            }
        }
        self = try fields.get()
        func u32(_ offset: Int) -> Int {
            Int(UInt32(littleEndian: header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }))
        }
        let count = u32(header.count - 8), folded = u32(header.count - 4)
        let held = count - folded
        guard folded <= count, bytes.count == count * CardState.blobEventSize, decayed != nil,
              held > CardState.indexThreshold, held <= CardState.maxHeldEvents,
              count <= 2 * CardState.maxHeldEvents + CardState.logRewriteMinimum else {
            throw .badLog(count: count, folded: folded, bytes: bytes.count)
        }
        var logged = [Event]()
        logged.reserveCapacity(count + 1)
        bytes.withUnsafeBytes { raw in
            for i in 0..<count {
                let o = i * CardState.blobEventSize
                logged.append(Event(
                    timeMs: Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))),
                    amount: Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self))),
                    merchantHash: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o + 16, as: UInt64.self)),
                    country: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: o + 24, as: UInt16.self))))
            }
        }
        events = logged
        log = EventLog(count: count, folded: folded)
        // Time order (stable), then the oldest `folded` are the folded ones.
        afterDecoding(keepingIndex: false)
        events.removeSubrange(..<folded)
        updateIndexPresence()
    }
}
