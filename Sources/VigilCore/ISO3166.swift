/// An officially assigned ISO 3166-1 alpha-2 country code, stored as its two
/// ASCII letters packed into 16 bits (first letter in the high byte).
///
/// The 249 officially assigned codes are accepted; user-assigned (`XK`, `AA`,
/// `ZZ`...), exceptionally reserved (`UK`, `EU`...) and withdrawn codes are not.
public struct CountryCode: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    /// The code if `rawValue` packs an officially assigned code, else nil.
    public init?(rawValue: UInt16) {
        guard let found = CountryCode.lookup(UInt8(rawValue >> 8), UInt8(truncatingIfNeeded: rawValue)) else {
            return nil
        }
        self = found
    }

    /// The code if `s` is an officially assigned alpha-2 code in upper case, else nil.
    public init?(_ s: String) {
        var s = s
        let found: CountryCode? = s.withUTF8 { utf8 in
            utf8.count == 2 ? CountryCode.lookup(utf8[0], utf8[1]) : nil
        }
        guard let found else { return nil }
        self = found
    }

    private init(unchecked rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// The two-letter code, e.g. `"DE"`.
    public var code: String {
        String(unsafeUninitializedCapacity: 2) { buffer in
            buffer[0] = UInt8(rawValue >> 8)
            buffer[1] = UInt8(truncatingIfNeeded: rawValue)
            return 2
        }
    }

    public var description: String { code }

    /// Every officially assigned code, sorted.
    public static let allAssigned: [CountryCode] = (0..<(26 * 26)).compactMap { index in
        isAssigned(index) ? CountryCode(unchecked: UInt16(65 + index / 26) << 8 | UInt16(65 + index % 26)) : nil
    }

    /// Finds the code spelled by two bytes (no allocation).
    @inline(__always)
    static func lookup(_ a: UInt8, _ b: UInt8) -> CountryCode? {
        let first = a &- 65
        let second = b &- 65
        guard first < 26, second < 26 else { return nil }
        let index = Int(first) &* 26 &+ Int(second)
        guard isAssigned(index) else { return nil }
        return CountryCode(unchecked: UInt16(a) << 8 | UInt16(b))
    }

    @inline(__always)
    private static func isAssigned(_ index: Int) -> Bool {
        assignedBits[index >> 6] & (1 << UInt64(index & 63)) != 0
    }

    /// One bit per letter pair AA...ZZ (index = 26 * first + second).
    private static let assignedBits: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 11)
        let letters = Array(assigned.utf8)
        var i = 0
        while i + 1 < letters.count {
            let index = Int(letters[i] - 65) * 26 + Int(letters[i + 1] - 65)
            bits[index >> 6] |= 1 << UInt64(index & 63)
            i += 3
        }
        return bits
    }()

    /// The officially assigned ISO 3166-1 alpha-2 codes (249, as in Debian's iso-codes 4.15).
    private static let assigned = """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE
        BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD
        CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
        DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF
        GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU
        ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
        KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
        MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
        NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
        PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI
        SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK
        TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
        VN VU WF WS YE YT ZA ZM ZW
        """
}
