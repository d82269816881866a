/// An active ISO 4217 alphabetic currency code with its minor unit.
///
/// Only codes of ISO 4217 list one (published 2026-01-01) that have a numeric
/// minor unit are accepted. The 13 codes whose minor unit is "N.A." (precious
/// metals XAU XAG XPD XPT, bond market units XBA-XBD, XDR, XSU, XUA, the
/// testing code XTS and "no currency" XXX) are rejected: no card payment is
/// denominated in them, and an amount in minor units is meaningless for them.
public struct CurrencyCode: Hashable, Sendable, CustomStringConvertible {
    /// The alphabetic code, e.g. `"EUR"`.
    public let code: String
    /// How many decimal places the minor unit has: JPY 0, EUR 2, KWD 3, CLF 4.
    public let minorUnitExponent: Int

    private init(uncheckedCode code: String, minorUnitExponent: Int) {
        self.code = code
        self.minorUnitExponent = minorUnitExponent
    }

    /// The code if `s` is an active ISO 4217 alphabetic code in upper case, else nil.
    public init?(_ s: String) {
        var s = s
        let found: CurrencyCode? = s.withUTF8 { utf8 in
            utf8.count == 3 ? CurrencyCode.lookup(utf8[0], utf8[1], utf8[2]) : nil
        }
        guard let found else { return nil }
        self = found
    }

    public var description: String { code }

    /// Every accepted code, sorted by code.
    public static let allActive: [CurrencyCode] = table.map {
        CurrencyCode(uncheckedCode: $0.0, minorUnitExponent: $0.1)
    }

    private static let packedKeys: [UInt32] = allActive.map { entry in
        let u = Array(entry.code.utf8)
        return pack(u[0], u[1], u[2])
    }

    @inline(__always)
    private static func pack(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt32 {
        UInt32(a) << 16 | UInt32(b) << 8 | UInt32(c)
    }

    /// Finds the code spelled by three bytes (no allocation).
    static func lookup(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> CurrencyCode? {
        let key = pack(a, b, c)
        return packedKeys.withUnsafeBufferPointer { keys -> CurrencyCode? in
            var low = 0
            var high = keys.count
            while low < high {
                let mid = (low &+ high) >> 1
                if keys[mid] < key { low = mid &+ 1 } else { high = mid }
            }
            guard low < keys.count, keys[low] == key else { return nil }
            return allActive[low]
        }
    }

    /// ISO 4217 list one, published 2026-01-01: code and minor unit, sorted.
    private static let table: [(String, Int)] = [
        ("AED", 2), ("AFN", 2), ("ALL", 2), ("AMD", 2), ("AOA", 2), ("ARS", 2),
        ("AUD", 2), ("AWG", 2), ("AZN", 2), ("BAM", 2), ("BBD", 2), ("BDT", 2),
        ("BHD", 3), ("BIF", 0), ("BMD", 2), ("BND", 2), ("BOB", 2), ("BOV", 2),
        ("BRL", 2), ("BSD", 2), ("BTN", 2), ("BWP", 2), ("BYN", 2), ("BZD", 2),
        ("CAD", 2), ("CDF", 2), ("CHE", 2), ("CHF", 2), ("CHW", 2), ("CLF", 4),
        ("CLP", 0), ("CNY", 2), ("COP", 2), ("COU", 2), ("CRC", 2), ("CUP", 2),
        ("CVE", 2), ("CZK", 2), ("DJF", 0), ("DKK", 2), ("DOP", 2), ("DZD", 2),
        ("EGP", 2), ("ERN", 2), ("ETB", 2), ("EUR", 2), ("FJD", 2), ("FKP", 2),
        ("GBP", 2), ("GEL", 2), ("GHS", 2), ("GIP", 2), ("GMD", 2), ("GNF", 0),
        ("GTQ", 2), ("GYD", 2), ("HKD", 2), ("HNL", 2), ("HTG", 2), ("HUF", 2),
        ("IDR", 2), ("ILS", 2), ("INR", 2), ("IQD", 3), ("IRR", 2), ("ISK", 0),
        ("JMD", 2), ("JOD", 3), ("JPY", 0), ("KES", 2), ("KGS", 2), ("KHR", 2),
        ("KMF", 0), ("KPW", 2), ("KRW", 0), ("KWD", 3), ("KYD", 2), ("KZT", 2),
        ("LAK", 2), ("LBP", 2), ("LKR", 2), ("LRD", 2), ("LSL", 2), ("LYD", 3),
        ("MAD", 2), ("MDL", 2), ("MGA", 2), ("MKD", 2), ("MMK", 2), ("MNT", 2),
        ("MOP", 2), ("MRU", 2), ("MUR", 2), ("MVR", 2), ("MWK", 2), ("MXN", 2),
        ("MXV", 2), ("MYR", 2), ("MZN", 2), ("NAD", 2), ("NGN", 2), ("NIO", 2),
        ("NOK", 2), ("NPR", 2), ("NZD", 2), ("OMR", 3), ("PAB", 2), ("PEN", 2),
        ("PGK", 2), ("PHP", 2), ("PKR", 2), ("PLN", 2), ("PYG", 0), ("QAR", 2),
        ("RON", 2), ("RSD", 2), ("RUB", 2), ("RWF", 0), ("SAR", 2), ("SBD", 2),
        ("SCR", 2), ("SDG", 2), ("SEK", 2), ("SGD", 2), ("SHP", 2), ("SLE", 2),
        ("SOS", 2), ("SRD", 2), ("SSP", 2), ("STN", 2), ("SVC", 2), ("SYP", 2),
        ("SZL", 2), ("THB", 2), ("TJS", 2), ("TMT", 2), ("TND", 3), ("TOP", 2),
        ("TRY", 2), ("TTD", 2), ("TWD", 2), ("TZS", 2), ("UAH", 2), ("UGX", 0),
        ("USD", 2), ("USN", 2), ("UYI", 0), ("UYU", 2), ("UYW", 4), ("UZS", 2),
        ("VED", 2), ("VES", 2), ("VND", 0), ("VUV", 0), ("WST", 2), ("XAD", 2),
        ("XAF", 0), ("XCD", 2), ("XCG", 2), ("XOF", 0), ("XPF", 0), ("YER", 2),
        ("ZAR", 2), ("ZMW", 2), ("ZWG", 2),
    ]
}
