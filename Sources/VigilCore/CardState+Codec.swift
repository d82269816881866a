/// Binary format of `CardState` in Redis (little-endian); layout in `docs/state.md`. Format 1 is a state without day
/// buckets (every state written before catalog 2, byte for byte); format 2 is format 1 followed by the day buckets.
/// Both are read; a state without day buckets is still written as format 1.
///
/// The blob is read and written through raw pointers: its length is checked against the flags and the event count
/// once, before any field is read, and every field is then a single unaligned load or store.
extension CardState {
    public static let formatVersion: UInt8 = 1
    /// Format 1 followed by the day buckets: a `UInt16` count, then per bucket day (`Int32`), count (`UInt32`) and
    /// sum (`Double` bits).
    public static let formatVersionWithDays: UInt8 = 2

    /// Format, flags and last country.
    static let blobHeaderSize = 4
    static let blobGeoSize = 24
    static let blobAggregateSize = 32
    static let blobEventCountSize = 4
    static let blobEventSize = 26
    static let blobDayCountSize = 2
    static let blobDaySize = 16

    /// Length in bytes of the encoded state.
    public var encodedSize: Int {
        CardState.blobHeaderSize + (lastGeo == nil ? 0 : CardState.blobGeoSize)
            + (aggregate == nil ? 0 : CardState.blobAggregateSize)
            + CardState.blobEventCountSize + CardState.blobEventSize * events.count
            + (days.isEmpty ? 0 : CardState.blobDayCountSize + CardState.blobDaySize * days.count)
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
        var p = BlobWriter(start)
        p.put(days.isEmpty ? CardState.formatVersion : CardState.formatVersionWithDays)
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
        p.put(UInt32(events.count))
        events.withUnsafeBufferPointer { events in
            for e in events {
                p.put(UInt64(bitPattern: e.timeMs))
                p.put(e.amount.bitPattern)
                p.put(e.merchantHash)
                p.put(e.country)
            }
        }
        guard !days.isEmpty else { return }
        p.put(UInt16(days.count))
        for d in days {
            p.put(d.day)
            p.put(d.count)
            p.put(d.sum.bitPattern)
        }
    }

    /// Decodes a state written by `encode`. Throws if the bytes are not a complete format-1 or format-2 state.
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
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw .truncated }
        let version = base.load(as: UInt8.self)
        guard version == CardState.formatVersion || version == CardState.formatVersionWithDays else {
            throw .unknownFormat(version)
        }
        let withDays = version == CardState.formatVersionWithDays
        guard bytes.count >= CardState.blobHeaderSize else { throw .truncated }
        let flags = base.load(fromByteOffset: 1, as: UInt8.self)
        var fixedSize = CardState.blobHeaderSize + CardState.blobEventCountSize
        if flags & 2 != 0 { fixedSize += CardState.blobGeoSize }
        if flags & 4 != 0 { fixedSize += CardState.blobAggregateSize }
        guard bytes.count >= fixedSize else { throw .truncated }
        let n = Int(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: fixedSize - 4, as: UInt32.self)))
        let eventsEnd = fixedSize + n * CardState.blobEventSize
        var dayCount = 0
        if withDays {
            guard n <= CardState.maxEvents, bytes.count >= eventsEnd + CardState.blobDayCountSize else {
                throw .badEventCount(n)
            }
            dayCount = Int(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: eventsEnd, as: UInt16.self)))
            guard dayCount > 0, dayCount <= CardState.maxDays,
                  bytes.count == eventsEnd + CardState.blobDayCountSize + dayCount * CardState.blobDaySize else {
                throw .badDayCount(dayCount)
            }
        } else {
            guard n <= CardState.maxEvents, bytes.count == eventsEnd else { throw .badEventCount(n) }
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
        if withDays {
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

public enum CardStateDecodingError: Error, Equatable, Sendable {
    case truncated
    case unknownFormat(UInt8)
    case badEventCount(Int)
    /// Format 2: a day count of 0 or over `CardState.maxDays`, or one the length does not hold.
    case badDayCount(Int)
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
