/// Continents, so that impossible travel really leaves the card's home continent.
enum Continent: Sendable {
    case europe, asia, africa, northAmerica, southAmerica, oceania
}

/// A real city centre, in degrees, around which merchants cluster.
struct City: Sendable {
    let lat: Double
    let lon: Double

    init(_ lat: Double, _ lon: Double) {
        self.lat = lat
        self.lon = lon
    }
}

/// A currency with its ISO 4217 minor unit and a rough rate, so that amounts drawn in euro look plausible in it.
struct Currency: Sendable {
    let code: StaticString
    let minorPerMajor: Double
    let perEuro: Double

    init(_ code: StaticString, exponent: Int, perEuro: Double) {
        self.code = code
        var scale = 1.0
        for _ in 0..<exponent { scale *= 10 }
        self.minorPerMajor = scale
        self.perEuro = perEuro
    }

    static let eur = Currency("EUR", exponent: 2, perEuro: 1)
    static let gbp = Currency("GBP", exponent: 2, perEuro: 0.85)
    static let pln = Currency("PLN", exponent: 2, perEuro: 4.3)
    static let sek = Currency("SEK", exponent: 2, perEuro: 11.3)
    static let dkk = Currency("DKK", exponent: 2, perEuro: 7.46)
    static let nok = Currency("NOK", exponent: 2, perEuro: 11.6)
    static let chf = Currency("CHF", exponent: 2, perEuro: 0.94)
    static let czk = Currency("CZK", exponent: 2, perEuro: 25)
    static let jpy = Currency("JPY", exponent: 0, perEuro: 160)
    static let kwd = Currency("KWD", exponent: 3, perEuro: 0.33)
    static let usd = Currency("USD", exponent: 2, perEuro: 1.08)
    static let cad = Currency("CAD", exponent: 2, perEuro: 1.47)
    static let brl = Currency("BRL", exponent: 2, perEuro: 5.6)
    static let ngn = Currency("NGN", exponent: 2, perEuro: 1650)
    static let vnd = Currency("VND", exponent: 0, perEuro: 27_000)
    static let aud = Currency("AUD", exponent: 2, perEuro: 1.65)
    static let thb = Currency("THB", exponent: 2, perEuro: 38)
}

/// A country the generator can place cards or merchants in.
struct Country: Sendable {
    let code: StaticString
    let currency: Currency
    let continent: Continent
    /// Two real cities (a fixed-size pair, so that copying a country costs no reference counting).
    let cities: (City, City)
    static let cityCount = 2

    init(_ code: StaticString, _ currency: Currency, _ continent: Continent, _ cities: [City]) {
        precondition(cities.count == Country.cityCount)
        self.code = code
        self.currency = currency
        self.continent = continent
        self.cities = (cities[0], cities[1])
    }

    func city(_ index: Int) -> City {
        index == 0 ? cities.0 : cities.1
    }
}

/// The world of the synthetic traffic: a small table of countries with two real cities each.
enum Geography {
    static let countries: [Country] = [
        Country("DE", .eur, .europe, [City(52.5200, 13.4050), City(48.1351, 11.5820)]),  // Berlin, Munich
        Country("FR", .eur, .europe, [City(48.8566, 2.3522), City(45.7640, 4.8357)]),  // Paris, Lyon
        Country("NL", .eur, .europe, [City(52.3676, 4.9041), City(51.9244, 4.4777)]),  // Amsterdam, Rotterdam
        Country("ES", .eur, .europe, [City(40.4168, -3.7038), City(41.3874, 2.1686)]),  // Madrid, Barcelona
        Country("IT", .eur, .europe, [City(41.9028, 12.4964), City(45.4642, 9.1900)]),  // Rome, Milan
        Country("GB", .gbp, .europe, [City(51.5074, -0.1278), City(53.4808, -2.2426)]),  // London, Manchester
        Country("PL", .pln, .europe, [City(52.2297, 21.0122), City(50.0647, 19.9450)]),  // Warsaw, Krakow
        Country("SE", .sek, .europe, [City(59.3293, 18.0686), City(57.7089, 11.9746)]),  // Stockholm, Gothenburg
        Country("AT", .eur, .europe, [City(48.2082, 16.3738), City(47.0707, 15.4395)]),  // Vienna, Graz
        Country("BE", .eur, .europe, [City(50.8503, 4.3517), City(51.2194, 4.4025)]),  // Brussels, Antwerp
        Country("PT", .eur, .europe, [City(38.7223, -9.1393), City(41.1579, -8.6291)]),  // Lisbon, Porto
        Country("IE", .eur, .europe, [City(53.3498, -6.2603), City(51.8985, -8.4756)]),  // Dublin, Cork
        Country("FI", .eur, .europe, [City(60.1699, 24.9384), City(61.4978, 23.7610)]),  // Helsinki, Tampere
        Country("DK", .dkk, .europe, [City(55.6761, 12.5683), City(56.1629, 10.2039)]),  // Copenhagen, Aarhus
        Country("NO", .nok, .europe, [City(59.9139, 10.7522), City(60.3913, 5.3221)]),  // Oslo, Bergen
        Country("CH", .chf, .europe, [City(47.3769, 8.5417), City(46.2044, 6.1432)]),  // Zurich, Geneva
        Country("CZ", .czk, .europe, [City(50.0755, 14.4378), City(49.1951, 16.6068)]),  // Prague, Brno
        Country("JP", .jpy, .asia, [City(35.6762, 139.6503), City(34.6937, 135.5023)]),  // Tokyo, Osaka
        Country("KW", .kwd, .asia, [City(29.3759, 47.9774), City(29.0769, 48.0839)]),  // Kuwait City, Al Ahmadi
        Country("US", .usd, .northAmerica, [City(40.7128, -74.0060), City(34.0522, -118.2437)]),  // New York, LA
        Country("CA", .cad, .northAmerica, [City(43.6532, -79.3832), City(45.5019, -73.5674)]),  // Toronto, Montreal
        Country("BR", .brl, .southAmerica, [City(-23.5505, -46.6333), City(-22.9068, -43.1729)]),  // Sao Paulo, Rio
        Country("NG", .ngn, .africa, [City(6.5244, 3.3792), City(9.0765, 7.3986)]),  // Lagos, Abuja
        Country("VN", .vnd, .asia, [City(21.0278, 105.8342), City(10.8231, 106.6297)]),  // Hanoi, Ho Chi Minh City
        Country("AU", .aud, .oceania, [City(-33.8688, 151.2093), City(-37.8136, 144.9631)]),  // Sydney, Melbourne
        Country("TH", .thb, .asia, [City(13.7563, 100.5018), City(7.8804, 98.3923)]),  // Bangkok, Phuket
    ]

    static func index(of code: String) -> Int? {
        countries.firstIndex { $0.code.description == code }
    }

    /// Where account takeovers are operated from.
    static let accountTakeoverCountries: [Int] = ["NG", "BR", "VN", "US"].map { index(of: $0)! }

    /// Where a cloned card turns up in an impossible-travel episode (filtered to another continent per card).
    static let distantCountries: [Int] = ["US", "CA", "BR", "NG", "VN", "AU", "TH", "JP"].map { index(of: $0)! }

    static let japan = index(of: "JP")!
    static let kuwait = index(of: "KW")!
}
