import VigilCore

/// How a model does on the validation period, scored exactly as the service scores (through `CompiledModel`).
public struct ModelEvaluation: Sendable, Equatable {
    public var version: String
    /// On the labelled validation examples; nil without both classes (ROC) or without positives (PR).
    public var rocAUC: Double?
    public var prAUC: Double?
    /// At the model's review threshold (review or block) and block threshold.
    public var review: OperatingPoint
    public var block: OperatingPoint
    public var examples: Int
    public var positives: Int
    /// Validation-period transactions, labelled or not: the denominator of alert rates.
    public var traffic: Int

    /// Share of validation-period transactions reviewed or blocked.
    public var alertRate: Double { review.rate }

    /// Scores every transaction of `slice` with `model`.
    public static func scores(_ model: CompiledModel, _ slice: ExampleSlice) -> [Double] {
        (0..<slice.count).map { model.score(slice.features($0)).value }
    }

    public static func evaluate(_ model: CompiledModel, on slice: ExampleSlice) -> ModelEvaluation {
        evaluate(version: model.version, scores: scores(model, slice), labels: slice.labels, thresholds: model.thresholds)
    }

    /// From precomputed scores of every validation-period transaction (labels 0, 1 or `ExampleSlice.unlabelled`).
    public static func evaluate(version: String, scores: [Double], labels: [UInt8], thresholds: ModelFile.Thresholds) -> ModelEvaluation {
        var labelledScores: [Double] = []
        var labelledClasses: [Bool] = []
        for (score, label) in zip(scores, labels) where label <= 1 {
            labelledScores.append(score)
            labelledClasses.append(label == 1)
        }
        return ModelEvaluation(
            version: version,
            rocAUC: Ranking.rocAUC(scores: labelledScores, labels: labelledClasses),
            prAUC: Ranking.averagePrecision(scores: labelledScores, labels: labelledClasses),
            review: OperatingPoint(threshold: thresholds.review, scores: scores, labels: labels),
            block: OperatingPoint(threshold: thresholds.block, scores: scores, labels: labels),
            examples: labelledScores.count,
            positives: labelledClasses.reduce(0) { $0 + ($1 ? 1 : 0) },
            traffic: scores.count
        )
    }
}
