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
        evaluate(version: model.version, scores: scores(model, slice), labels: slice.labels, thresholds: model.thresholds,
                 weights: slice.weights)
    }

    /// From precomputed scores of every validation-period transaction (labels 0, 1 or `ExampleSlice.unlabelled`).
    /// With `weights` (a sampled validation period) AUCs, precision, recall and rates are weighted estimates;
    /// `examples`, `positives` and `traffic` stay counts of rows.
    public static func evaluate(
        version: String, scores: [Double], labels: [UInt8], thresholds: ModelFile.Thresholds, weights: [Float] = []
    ) -> ModelEvaluation {
        var labelledScores: [Double] = []
        var labelledClasses: [Bool] = []
        var labelledWeights: [Float] = []
        for (row, (score, label)) in zip(scores, labels).enumerated() where label <= 1 {
            labelledScores.append(score)
            labelledClasses.append(label == 1)
            if !weights.isEmpty { labelledWeights.append(weights[row]) }
        }
        return ModelEvaluation(
            version: version,
            rocAUC: Ranking.rocAUC(scores: labelledScores, labels: labelledClasses, weights: labelledWeights),
            prAUC: Ranking.averagePrecision(scores: labelledScores, labels: labelledClasses, weights: labelledWeights),
            review: OperatingPoint(threshold: thresholds.review, scores: scores, labels: labels, weights: weights),
            block: OperatingPoint(threshold: thresholds.block, scores: scores, labels: labels, weights: weights),
            examples: labelledScores.count,
            positives: labelledClasses.reduce(0) { $0 + ($1 ? 1 : 0) },
            traffic: scores.count
        )
    }
}
