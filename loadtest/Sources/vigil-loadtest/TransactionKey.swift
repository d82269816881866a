/// A 64-bit FNV-1a hash of a transaction id's bytes: the ledger's index key, so that hundreds of thousands of
/// in-flight transactions cost 16 bytes each instead of a String each. Two ids of one run collide with
/// probability ~ n^2 / 2^65 (1e-8 for a million transactions).
enum TransactionKey {
    static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        return h
    }

    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            h ^= UInt64(byte)
            h &*= 0x0000_0100_0000_01b3
        }
        return h
    }
}

/// Reads one string field out of a compact JSON object without decoding it: enough for the few fields the tool
/// needs from Vigil's outputs (`verdict`, `transaction_id`) at tens of thousands of messages per second.
enum JSONPeek {
    /// The bytes of the string value of `"name":"..."` in `json` (no unescaping; ids and verdicts need none).
    static func stringValue(_ name: StaticString, in json: [UInt8]) -> ArraySlice<UInt8>? {
        let pattern = UnsafeRawBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        let n = pattern.count
        guard json.count > n + 4 else { return nil }
        var i = 0
        let limit = json.count - n - 3
        while i < limit {
            if json[i] == 0x22, json[i + n + 1] == 0x22, json[i + n + 2] == 0x3A {
                var match = true
                for k in 0..<n where json[i + 1 + k] != pattern[k] {
                    match = false
                    break
                }
                if match {
                    var j = i + n + 3
                    while j < json.count, json[j] == 0x20 { j += 1 }
                    guard j < json.count, json[j] == 0x22 else { return nil }
                    let start = j + 1
                    var end = start
                    while end < json.count, json[end] != 0x22 { end += 1 }
                    return end < json.count ? json[start..<end] : nil
                }
            }
            i += 1
        }
        return nil
    }
}
