extension MerchantRiskCounts {
    /// Parses `redisValue` from raw bytes (`init?(redisValue:)` goes through here), without allocating: the hot path
    /// parses every distinct merchant of a batch from the HMGET reply.
    public init?(redisBytes bytes: UnsafeRawBufferPointer) {
        var fields: (Int64, Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0, 0)
        var count = 0
        var current: Int64 = 0
        var digits = 0
        func store(_ value: Int64, at i: Int) {
            switch i {
            case 0: fields.0 = value
            case 1: fields.1 = value
            case 2: fields.2 = value
            case 3: fields.3 = value
            case 4: fields.4 = value
            default: fields.5 = value
            }
        }
        for byte in bytes {
            if byte == UInt8(ascii: ",") {
                guard digits > 0, count < 5 else { return nil }
                store(current, at: count)
                count += 1
                current = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                guard digits < 18 else { return nil }
                current = current * 10 + Int64(byte - UInt8(ascii: "0"))
                digits += 1
            } else {
                return nil
            }
        }
        guard digits > 0, count == 5 else { return nil }
        store(current, at: 5)
        self.init(
            transactions1d: fields.0, transactions7d: fields.1, transactions30d: fields.2,
            frauds1d: fields.3, frauds7d: fields.4, frauds30d: fields.5)
        guard frauds1d <= transactions1d, frauds7d <= transactions7d, frauds30d <= transactions30d else { return nil }
    }
}
