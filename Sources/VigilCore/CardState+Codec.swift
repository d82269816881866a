/// Binary format of `CardState` in Redis (format 1, little-endian); layout in `docs/state.md`.
extension CardState {
    public static let formatVersion: UInt8 = 1

    /// Appends the encoded state to `out`.
    public func encode(into out: inout [UInt8]) {
        var flags: UInt8 = 0
        if lastCountry != nil { flags |= 1 }
        if lastGeo != nil { flags |= 2 }
        if aggregate != nil { flags |= 4 }
        out.reserveCapacity(out.count + 66 + 26 * events.count)
        out.append(CardState.formatVersion)
        out.append(flags)
        out.appendLE(lastCountry ?? 0)
        if let g = lastGeo {
            out.appendLE(UInt64(bitPattern: g.timeMs))
            out.appendLE(g.lat.bitPattern)
            out.appendLE(g.lon.bitPattern)
        }
        if let a = aggregate {
            out.appendLE(UInt64(bitPattern: a.refMs))
            out.appendLE(a.weightedSum.bitPattern)
            out.appendLE(a.weight.bitPattern)
            out.appendLE(UInt64(bitPattern: a.latestMs))
        }
        out.appendLE(UInt32(events.count))
        for e in events {
            out.appendLE(UInt64(bitPattern: e.timeMs))
            out.appendLE(e.amount.bitPattern)
            out.appendLE(e.merchantHash)
            out.appendLE(e.country)
        }
    }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        encode(into: &out)
        return out
    }

    /// Decodes a state written by `encode`. Throws if the bytes are not a complete format-1 state.
    public init(decoding bytes: some RandomAccessCollection<UInt8>) throws(CardStateDecodingError) {
        var reader = ByteReader(Array(bytes))
        guard let version = reader.u8() else { throw .truncated }
        guard version == CardState.formatVersion else { throw .unknownFormat(version) }
        guard let flags = reader.u8(), let country = reader.u16() else { throw .truncated }
        self.init()
        if flags & 1 != 0 { lastCountry = country }
        if flags & 2 != 0 {
            guard let t = reader.u64(), let lat = reader.u64(), let lon = reader.u64() else { throw .truncated }
            lastGeo = GeoFix(timeMs: Int64(bitPattern: t), lat: Double(bitPattern: lat), lon: Double(bitPattern: lon))
        }
        if flags & 4 != 0 {
            guard let r = reader.u64(), let s = reader.u64(), let w = reader.u64(), let l = reader.u64() else {
                throw .truncated
            }
            aggregate = Aggregate(
                refMs: Int64(bitPattern: r), weightedSum: Double(bitPattern: s),
                weight: Double(bitPattern: w), latestMs: Int64(bitPattern: l))
        }
        guard let n = reader.u32() else { throw .truncated }
        guard Int(n) <= CardState.maxEvents, reader.remaining == Int(n) * 26 else { throw .badEventCount(Int(n)) }
        events.reserveCapacity(Int(n))
        for _ in 0..<n {
            guard let t = reader.u64(), let a = reader.u64(), let m = reader.u64(), let c = reader.u16() else {
                throw .truncated
            }
            events.append(Event(timeMs: Int64(bitPattern: t), amount: Double(bitPattern: a), merchantHash: m, country: c))
        }
    }
}

public enum CardStateDecodingError: Error, Equatable, Sendable {
    case truncated
    case unknownFormat(UInt8)
    case badEventCount(Int)
}

extension [UInt8] {
    @inline(__always)
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        Swift.withUnsafeBytes(of: &v) { append(contentsOf: $0) }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - position }

    mutating func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        var value: T = 0
        for i in 0..<size { value |= T(bytes[position + i]) << (8 * i) }
        position += size
        return value
    }

    mutating func u8() -> UInt8? { read(UInt8.self) }
    mutating func u16() -> UInt16? { read(UInt16.self) }
    mutating func u32() -> UInt32? { read(UInt32.self) }
    mutating func u64() -> UInt64? { read(UInt64.self) }
}
