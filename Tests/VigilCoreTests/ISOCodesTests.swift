import XCTest

@testable import VigilCore

final class ISOCodesTests: XCTestCase {
    // MARK: ISO 3166-1

    func testAllOfficiallyAssignedCountryCodes() {
        XCTAssertEqual(CountryCode.allAssigned.count, 249)
        let codes = CountryCode.allAssigned.map(\.code)
        XCTAssertEqual(codes, codes.sorted())
        for code in codes {
            XCTAssertEqual(CountryCode(code)?.code, code)
        }
    }

    func testCountryCodes() {
        for code in ["DE", "US", "GB", "FR", "JP", "CN", "BR", "ZA", "SS", "AQ", "BQ", "CW", "SX", "AX", "UM", "PS", "TW"] {
            XCTAssertNotNil(CountryCode(code), code)
        }
        // User-assigned, exceptionally reserved, transitionally reserved, withdrawn, malformed.
        for code in ["XK", "AA", "ZZ", "QM", "UK", "EU", "UN", "EZ", "AC", "TA", "AN", "YU", "CS", "SU", "ZR", "TP",
            "de", "De", "D", "DEU", "", "D1", "Ü", "  "]
        {
            XCTAssertNil(CountryCode(code), code)
        }
    }

    func testCountryCodeRawValuePacksTwoLetters() throws {
        let de = try XCTUnwrap(CountryCode("DE"))
        XCTAssertEqual(de.rawValue, UInt16(UInt8(ascii: "D")) << 8 | UInt16(UInt8(ascii: "E")))
        XCTAssertEqual(CountryCode(rawValue: de.rawValue), de)
        XCTAssertNil(CountryCode(rawValue: UInt16(UInt8(ascii: "X")) << 8 | UInt16(UInt8(ascii: "K"))))
        XCTAssertNil(CountryCode(rawValue: 0))
        XCTAssertEqual(de.description, "DE")
        XCTAssertEqual(Set([de, CountryCode("DE")!, CountryCode("AT")!]).count, 2)
    }

    // MARK: ISO 4217

    func testActiveCurrencyList() {
        XCTAssertEqual(CurrencyCode.allActive.count, 165)
        let codes = CurrencyCode.allActive.map(\.code)
        XCTAssertEqual(codes, codes.sorted())
        XCTAssertEqual(Set(codes).count, codes.count)
        for currency in CurrencyCode.allActive {
            XCTAssertEqual(currency.code.utf8.count, 3)
            XCTAssertTrue(currency.code.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
            XCTAssertTrue([0, 2, 3, 4].contains(currency.minorUnitExponent), currency.code)
            XCTAssertEqual(CurrencyCode(currency.code), currency)
        }
    }

    func testMinorUnits() {
        let expected: [String: Int] = [
            "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "XAF": 0,
            "XOF": 0, "XPF": 0, "UGX": 0, "PYG": 0, "KWD": 3, "BHD": 3, "JOD": 3, "OMR": 3, "TND": 3, "LYD": 3,
            "IQD": 3, "CLF": 4, "UYW": 4, "UYI": 0, "VES": 2, "VED": 2, "SLE": 2, "ZWG": 2, "XCG": 2, "MRU": 2,
            "STN": 2, "BYN": 2, "HUF": 2, "IDR": 2,
        ]
        for (code, exponent) in expected {
            XCTAssertEqual(CurrencyCode(code)?.minorUnitExponent, exponent, code)
        }
    }

    func testRejectedCurrencyCodes() {
        // Minor unit "N.A." (metals, bond units, SDR, testing, no currency), withdrawn, malformed.
        for code in ["XAU", "XAG", "XPD", "XPT", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA", "XTS", "XXX",
            "HRK", "SLL", "ANG", "ZWL", "CUC", "DEM", "FRF", "VEF", "BYR", "MRO", "STD",
            "eur", "Eur", "EU", "EURO", "", "E R", "123", "€"]
        {
            XCTAssertNil(CurrencyCode(code), code)
        }
    }

    func testByteLookupAgreesWithInitializer() {
        let letters = Array(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        var found = 0
        for a in letters {
            for b in letters {
                for c in letters {
                    let viaBytes = CurrencyCode.lookup(a, b, c)
                    XCTAssertEqual(viaBytes, CurrencyCode(String(decoding: [a, b, c], as: UTF8.self)))
                    if viaBytes != nil { found += 1 }
                }
                XCTAssertEqual(CountryCode.lookup(a, b), CountryCode(String(decoding: [a, b], as: UTF8.self)))
            }
        }
        XCTAssertEqual(found, 165)
    }
}
