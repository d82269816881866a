extension Transaction {
    /// `amount_minor` in major units, using the currency's ISO 4217 minor-unit exponent.
    public var amount: Double {
        switch currency.minorUnitExponent {
        case 0: Double(amountMinor)
        case 1: Double(amountMinor) / 10
        case 2: Double(amountMinor) / 100
        case 3: Double(amountMinor) / 1000
        case 4: Double(amountMinor) / 10_000
        default: Double(amountMinor) / 100
        }
    }
}
