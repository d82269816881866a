import VigilConsole

func alert(_ id: String, card: String = "card-1", verdict: String = "block", score: Double = 0.9, decidedAtMs: Int64 = 1000) -> ConsoleAlert {
    ConsoleAlert(
        transactionId: id, cardId: card, verdict: verdict, score: score, modelVersion: "m1",
        reasons: [.init(feature: "count_1m", contribution: 2.5)], eventTimeMs: decidedAtMs - 4, decidedAtMs: decidedAtMs)
}

func record(_ id: String, card: String = "card-1", timeMs: Int64 = 996, amount: Double = 12.5) -> FeatureSnapshot {
    FeatureSnapshot(
        transactionId: id, cardId: card, merchantId: "m-1", eventTimeMs: timeMs, score: 0.5, verdict: "approve",
        features: ["amount": amount, "count_1m": 1])
}
