/// The kinds of fraud in generated traffic: four episodes the generator plays out on fraud cards, and payments at
/// compromised merchants.
public enum FraudPattern: String, Sendable, CaseIterable {
    /// A burst of 10-40 tiny e-commerce payments at new high-risk merchants within 1-3 minutes.
    case cardTesting = "card_testing"
    /// 3-8 payments of 5-20x the card's typical amount within an hour, from a distant country, to wire transfer or
    /// gambling merchants the card has never used.
    case accountTakeover = "account_takeover"
    /// 4-10 payments of 10-50x the typical amount at new electronics and jewellery merchants at home within 30 minutes.
    case highValueSpree = "high_value_spree"
    /// A genuine payment near home followed 10-60 minutes later by a card-present payment on another continent.
    case impossibleTravel = "impossible_travel"
    /// A payment at an everyday merchant while it is compromised (a skimmed terminal, a breached web shop): the card
    /// behaves as it always does, only the merchant gives it away (`TrafficProfile.compromisedMerchants`).
    case compromisedMerchant = "compromised_merchant"

    /// The patterns of fraud-card episodes (`TrafficProfile.fraudCardFraction`), in the order their bag is filled.
    public static let cardEpisodes: [FraudPattern] = [.cardTesting, .accountTakeover, .highValueSpree, .impossibleTravel]
}
