/// Binary format of `CardState` in Redis (little-endian); layout in `docs/state.md`. Format 1 is a state without day
/// buckets (every state written before catalog 2, byte for byte); format 2 is format 1 followed by the day buckets;
/// format 3 is format 2 with the decayed total of a state with more than `indexThreshold` held events (flag 8, after
/// the aggregate; its day count may be 0). All three are read; each state is written in the first that holds it.
/// Held events are written in time order; states written before that (formats 1 and 2) are put in time order when
/// read.
///
/// The blob is read and written through raw pointers: its length is checked against the flags and the event count
/// once, before any field is read, and every field is then a single unaligned load or store.
extension CardState {
    public static let formatVersion: UInt8 = 1
    /// Format 1 followed by the day buckets: a `UInt16` count, then per bucket day (`Int32`), count (`UInt32`) and
    /// sum (`Double` bits).
    public static let formatVersionWithDays: UInt8 = 2
    /// Format 2 with the decayed total (`decayed`: reference time, weighted sum, weight) after the aggregate.
    public static let formatVersionWithTotal: UInt8 = 3
    /// A busy card's header: format 3 without events, then the log's event count and folded count (u32 each); its
    /// events are in its log (`CardState+Log.swift`).
    public static let formatVersionHeader: UInt8 = 4

    /// Format, flags and last country.
    static let blobHeaderSize = 4
    static let blobGeoSize = 24
    static let blobAggregateSize = 32
    static let blobTotalSize = 24
    static let blobEventCountSize = 4
    static let blobEventSize = 26
    static let blobDayCountSize = 2
    static let blobDaySize = 16

    /// Length in bytes of the encoded state.
    public var encodedSize: Int {
        CardState.blobHeaderSize + (lastGeo == nil ? 0 : CardState.blobGeoSize)
            + (aggregate == nil ? 0 : CardState.blobAggregateSize)
            + (decayed == nil ? 0 : CardState.blobTotalSize)
            + CardState.blobEventCountSize + CardState.blobEventSize * events.count
            + (days.isEmpty && decayed == nil ? 0 : CardState.blobDayCountSize + CardState.blobDaySize * days.count)
    }

    /// Appends the encoded state to `out`.
    public func encode(into out: inout [UInt8]) {
        let size = encodedSize
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBytes { write(to: $0.baseAddress! + start) }
    }

    public func encoded() -> [UInt8] {
        let size = encodedSize
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            write(to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = size
        }
    }

    /// Writes exactly `encodedSize` bytes at `start`.
    private func write(to start: UnsafeMutableRawPointer) {
        var flags: UInt8 = 0
        if lastCountry != nil { flags |= 1 }
        if lastGeo != nil { flags |= 2 }
        if aggregate != nil { flags |= 4 }
        if decayed != nil { flags |= 8 }
        var p = BlobWriter(start)
        p.put(decayed != nil ? CardState.formatVersionWithTotal
              : days.isEmpty ? CardState.formatVersion : CardState.formatVersionWithDays)
        p.put(flags)
        p.put(lastCountry ?? 0)
        if let g = lastGeo {
            p.put(UInt64(bitPattern: g.timeMs))
            p.put(g.lat.bitPattern)
            p.put(g.lon.bitPattern)
        }
        if let a = aggregate {
            p.put(UInt64(bitPattern: a.refMs))
            p.put(a.weightedSum.bitPattern)
            p.put(a.weight.bitPattern)
            p.put(UInt64(bitPattern: a.latestMs))
        }
        if let d = decayed {
            p.put(UInt64(bitPattern: d.refMs))
            p.put(d.weightedSum.bitPattern)
            p.put(d.weight.bitPattern)
        }
        p.put(UInt32(events.count))
        events.withUnsafeBufferPointer { events in
            for e in events {
                p.put(UInt64(bitPattern: e.timeMs))
                p.put(e.amount.bitPattern)
                p.put(e.merchantHash)
                p.put(e.country)
            }
        }
        guard !days.isEmpty || decayed != nil else { return }
        p.put(UInt16(days.count))
        for d in days {
            p.put(d.day)
            p.put(d.count)
            p.put(d.sum.bitPattern)
        }
    }

    /// Decodes a state written by `encode`. Throws if the bytes are not a complete state of a known format.
    public init(decoding bytes: some RandomAccessCollection<UInt8>) throws(CardStateDecodingError) {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(CardStateDecodingError) in try CardState(decoding: UnsafeRawBufferPointer(buffer)) }
        }
        if let contiguous {
            self = try contiguous.get()
        } else {
            try self.init(decoding: Array(bytes))
        }
    }

    /// Decodes a state written by `encode` (the form Redis replies come in).
    public init(decoding bytes: [UInt8]) throws(CardStateDecodingError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CardStateDecodingError) in try CardState(decoding: buffer) }
        }
        self = try result.get()
    }

    /// Decodes a state written by `encode` from raw memory, which is only read during the call.
    public init(decoding bytes: UnsafeRawBufferPointer) throws(CardStateDecodingError) {
        try self.init(decoding: bytes, asHeader: false)
    }

    /// `asHeader`: the bytes are a format-3 state without its events (a busy card's header, `CardState+Log.swift`).
    init(decoding bytes: UnsafeRawBufferPointer, asHeader: Bool) throws(CardStateDecodingError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw .truncated }
        let stored = base.load(as: UInt8.self)
        if stored == CardState.formatVersionHeader, !asHeader { throw .isHeader }
        let version = stored == CardState.formatVersionHeader && asHeader ? CardState.formatVersionWithTotal : stored
        guard version >= CardState.formatVersion, version <= CardState.formatVersionWithTotal else {
            throw .unknownFormat(version)
        }
        let withDays = version >= CardState.formatVersionWithDays
        let withTotal = version == CardState.formatVersionWithTotal
        guard bytes.count >= CardState.blobHeaderSize else { throw .truncated }
        let flags = base.load(fromByteOffset: 1, as: UInt8.self)
        var fixedSize = CardState.blobHeaderSize + CardState.blobEventCountSize
        if flags & 2 != 0 { fixedSize += CardState.blobGeoSize }
        if flags & 4 != 0 { fixedSize += CardState.blobAggregateSize }
        guard !withTotal || flags & 8 != 0 else { throw .unknownFormat(version) }
        if withTotal { fixedSize += CardState.blobTotalSize }
        guard bytes.count >= fixedSize else { throw .truncated }
        let n = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: fixedSize - 4, as: UInt32.self)))
        let eventsEnd = fixedSize + n * CardState.blobEventSize
        var dayCount = 0
        if withDays {
            guard n <= CardState.maxHeldEvents, bytes.count >= eventsEnd + CardState.blobDayCountSize,
                  !withTotal || n > CardState.indexThreshold || (asHeader && n == 0) else {
                throw .badEventCount(n)
            }
            dayCount = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: eventsEnd, as: UInt16.self)))
            guard dayCount > 0 || withTotal, dayCount <= CardState.maxDays,
                  bytes.count == eventsEnd + CardState.blobDayCountSize + dayCount * CardState.blobDaySize else {
                throw .badDayCount(dayCount)
            }
        } else {
            guard n <= CardState.maxHeldEvents, bytes.count == eventsEnd else { throw .badEventCount(n) }
        }

        // Every read below is inside the length just checked.
        self.init()
        var r = BlobReader(base + 2)
        let country: UInt16 = r.take()
        if flags & 1 != 0 { lastCountry = country }
        if flags & 2 != 0 {
            lastGeo = GeoFix(
                timeMs: Int64(bitPattern: r.take()), lat: Double(bitPattern: r.take()),
                lon: Double(bitPattern: r.take()))
        }
        if flags & 4 != 0 {
            aggregate = Aggregate(
                refMs: Int64(bitPattern: r.take()), weightedSum: Double(bitPattern: r.take()),
                weight: Double(bitPattern: r.take()), latestMs: Int64(bitPattern: r.take()))
        }
        if withTotal {
            let refMs = Int64(bitPattern: r.take())
            decayed = Aggregate(refMs: refMs, weightedSum: Double(bitPattern: r.take()),
                                weight: Double(bitPattern: r.take()), latestMs: refMs)
        }
        if withDays, dayCount > 0 {
            r = BlobReader(base + eventsEnd + CardState.blobDayCountSize)
            days = [DayBucket](unsafeUninitializedCapacity: dayCount + 1) { buffer, initialized in
                for i in 0..<dayCount {
                    buffer.initializeElement(at: i, to: DayBucket(
                        day: r.take(), count: r.take(), sum: Double(bitPattern: r.take())))
                }
                initialized = dayCount
            }
        }
        guard n > 0 else { return }
        r = BlobReader(base + fixedSize)
        defer { afterDecoding() }
        // One spare slot: a decoded state is usually applied a transaction next, which then appends in place.
        events = [Event](unsafeUninitializedCapacity: n + 1) { buffer, initialized in
            for i in 0..<n {
                buffer.initializeElement(at: i, to: Event(
                    timeMs: Int64(bitPattern: r.take()), amount: Double(bitPattern: r.take()),
                    merchantHash: r.take(), country: r.take()))
            }
            initialized = n
        }
    }
}

extension CardState {
    /// Puts held events of an earlier format (or a log) in time order, stably, and builds what a state with many
    /// events keeps beside them.
    mutating func afterDecoding(keepingIndex: Bool = true) {
        if zip(events, events.dropFirst()).contains(where: { $0.timeMs > $1.timeMs }) {
            // Stable: equal times keep their order (the order they were applied in).
            events = events.indices.sorted { (events[$0].timeMs, $0) < (events[$1].timeMs, $1) }.map { events[$0] }
        }
        guard keepingIndex else { return }
        if events.count > CardState.indexThreshold, decayed == nil { decayed = chainedDecayed(upTo: events.count) }
        updateIndexPresence()
        // A busy card in one value (format 3, or 1 and 2 from before) has no log yet: the next transaction applied
        // moves it to the log layout (`updateLogLayout`), and its next write writes the whole log.
    }
}

public enum CardStateDecodingError: Error, Equatable, Sendable {
    case truncated
    case unknownFormat(UInt8)
    case badEventCount(Int)
    /// Format 2: a day count of 0 or over `CardState.maxDays`, or one the length does not hold.
    case badDayCount(Int)
    /// A busy card's header (format 4): its events are in its log (`CardState(header:log:)`).
    case isHeader
    /// A header's log counts do not match its log (or the held events are not a busy card's).
    case badLog(count: Int, folded: Int, bytes: Int)
}

/// Sequential little-endian stores into memory the caller has sized.
private struct BlobWriter {
    var position: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) { position = start }

    @inline(__always)
    mutating func put<T: FixedWidthInteger>(_ value: T) {
        position.storeBytes(of: value.littleEndian, as: T.self)
        position += MemoryLayout<T>.size
    }
}

/// Sequential little-endian loads from memory whose length the caller has checked.
private struct BlobReader {
    var position: UnsafeRawPointer

    init(_ start: UnsafeRawPointer) { position = start }

    @inline(__always)
    mutating func take<T: FixedWidthInteger>() -> T {
        let value = T(littleEndian: position.loadUnaligned(as: T.self))
        position += MemoryLayout<T>.size
        return value
    }
}
