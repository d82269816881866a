import VigilCore

extension TrainingOutcome {
    /// The model file's `training` section: method, options, inputs and their hash, data range, counts, fit,
    /// both models' validation metrics and the promotion decision.
    public func metadata() -> JSONValue {
        let r = result
        let c = counts
        let o = options
        let maxAlertGrowth: JSONValue = o.maxAlertGrowth.isFinite ? .number(o.maxAlertGrowth) : .string("inf")
        let decidedBy: JSONValue = r.promotion.decidedBy.map { .string($0.rawValue) } ?? .null
        let checks: [JSONValue] = r.promotion.checks.map { check in
            .object([
                "condition": .string(check.condition.rawValue), "passed": .bool(check.passed), "detail": .string(check.detail),
            ])
        }
        return .object([
            "method": .string("l2-logistic-regression, Newton/IRLS, balanced class weights, standardized after transform"),
            "trained_at": .string(UTCTime.iso(startedAtMs)),
            "input_sha256": .string(inputSHA256),
            "options": .object([
                "maturity_days": .number(o.maturityDays),
                "validation_fraction": .number(o.validationFraction),
                "l2": .number(o.l2),
                "block_precision": .number(o.blockPrecision),
                "alert_budget": .number(o.alertBudget),
                "max_alert_growth": maxAlertGrowth,
                "min_pr_auc_gain": .number(o.minPRAUCGain),
                "blocked_unlabelled": .string(o.blockedUnlabelled.rawValue),
                "max_examples": .number(Double(o.maxSampledTransactions)),
                "choose_transforms": .bool(o.chooseTransforms),
            ]),
            "sample": Self.json(c.sample),
            "transforms": Self.json(transformSelection),
            "inputs": .object([
                "features": Self.json(featureSource, featureTally),
                "labels": Self.json(labelSource, labelTally),
                "truth": truthSource.map { Self.json($0, truthTally ?? RecordTally()) } ?? .null,
            ]),
            "data": .object([
                "first_event": .string(UTCTime.iso(firstEventMs)),
                "last_event": .string(UTCTime.iso(lastEventMs)),
                "first_event_ms": .number(Double(firstEventMs)),
                "last_event_ms": .number(Double(lastEventMs)),
                "maturity_cutoff": .string(UTCTime.iso(maturityCutoffMs)),
                "validation_from": validationStartMs.map { .string(UTCTime.iso($0)) } ?? .null,
            ]),
            "counts": .object([
                "feature_records": .number(Double(c.featureRecords)),
                "bad_feature_records": .number(Double(c.badFeatureRecords)),
                "duplicate_feature_records": .number(Double(c.duplicateFeatureRecords)),
                "transactions": .number(Double(c.transactions)),
                "catalog_v1_transactions": .number(Double(c.catalogV1Transactions)),
                "catalog_v2_transactions": .number(Double(c.catalogV2Transactions)),
                "excluded_by_catalog": .number(Double(c.excludedByCatalog)),
                "blocked": .number(Double(c.blocked)),
                "label_records": .number(Double(c.labelRecords)),
                "bad_label_records": .number(Double(c.badLabelRecords)),
                "relabelled": .number(Double(c.relabelled)),
                "labelled_transactions": .number(Double(c.labelledTransactions)),
                "labels_for_unknown_transactions": .number(Double(c.labelsForUnknownTransactions)),
                "unlabelled_negatives": .number(Double(c.unlabelledNegatives)),
                "excluded_immature": .number(Double(c.excludedImmature)),
                "excluded_blocked_unlabelled": .number(Double(c.excludedBlockedUnlabelled)),
                "positives": .number(Double(c.positives)),
                "negatives": .number(Double(c.negatives)),
                "train_examples": .number(Double(c.trainExamples)),
                "train_positives": .number(Double(c.trainPositives)),
                "validation_examples": .number(Double(c.validationExamples)),
                "validation_positives": .number(Double(c.validationPositives)),
                "validation_traffic": .number(Double(c.validationTraffic)),
            ]),
            "fit": .object([
                "iterations": .number(Double(r.fit.iterations)),
                "converged": .bool(r.fit.converged),
                "objective": .number(r.fit.objective),
                "gradient_max_abs": .number(r.fit.gradientNorm),
                "class_weight_negative": .number(r.fit.classWeights.negative),
                "class_weight_positive": .number(r.fit.classWeights.positive),
            ]),
            "metrics": .object([
                "candidate": Self.json(r.candidate),
                "current": r.current.map(Self.json) ?? .null,
                "patterns": r.patterns.isEmpty ? .null : .array(r.patterns.map { p in
                    .object([
                        "pattern": .string(p.pattern),
                        "transactions": .number(Double(p.transactions)),
                        "candidate": .object(["reviewed": .number(p.candidate.reviewed), "blocked": .number(p.candidate.blocked)]),
                        "current": p.current.map { .object(["reviewed": .number($0.reviewed), "blocked": .number($0.blocked)]) } ?? .null,
                    ])
                }),
            ]),
            "catalog": .object([
                "version": .number(Double(catalog.rawValue)),
                "features": .array(catalog.features.map { .string($0.name) }),
                "choice": .string(o.catalog.rawValue),
            ]),
            "promotion": .object([
                "promoted": .bool(r.promotion.promoted),
                "reason": .string(r.promotion.reason),
                "decided_by": decidedBy,
                "checks": .array(checks),
            ]),
            "warnings": .array(r.warnings.map { .string($0) }),
        ])
    }

    /// How the transforms were chosen: per feature the starting and chosen transform, why, and the hold-out
    /// log-loss of each one tried; the gain in hold-out log-loss and in validation PR AUC.
    static func json(_ report: TransformSelection.Report?) -> JSONValue {
        guard let report else { return .object(["chosen_by_data": .bool(false)]) }
        func optional(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        let features: [JSONValue] = report.choices.map { choice in
            let tried: [JSONValue] = choice.tried.map { t in
                .object(["transform": .string(t.transform.description), "holdout_log_loss": .number(t.holdoutLoss),
                         "holdout_pr_auc": t.holdoutPRAUC.map { .number($0) } ?? .null])
            }
            return .object([
                "feature": .string(choice.feature.name), "start": .string(choice.start.description),
                "chosen": .string(choice.chosen.description), "basis": .string(choice.basis), "tried": .array(tried),
            ])
        }
        var object: [String: JSONValue] = [
            "chosen_by_data": .bool(true),
            "on": .string("inner hold-out: the newest share of the training slice (the validation slice is kept for thresholds and the gate)"),
            "start_holdout_log_loss": .number(report.startLoss),
            "chosen_holdout_log_loss": .number(report.chosenLoss),
            "fits": .number(Double(report.fits)),
        ]
        object["fit_rows"] = .number(Double(report.fitRows))
        object["holdout_rows"] = .number(Double(report.holdoutRows))
        object["start_validation_pr_auc"] = optional(report.startValidationPRAUC)
        object["chosen_validation_pr_auc"] = optional(report.chosenValidationPRAUC)
        object["features"] = .array(features)
        return .object(object)
    }

    /// What was sampled: null when every transaction was kept.
    static func json(_ sample: NegativeSample?) -> JSONValue {
        guard let sample else { return .object(["sampled": .bool(false)]) }
        return .object([
            "sampled": .bool(true),
            "what": .string("unlabelled, unblocked transactions, by hash of transaction_id (bottom-k); fraud, labelled and blocked all kept"),
            "budget": .number(Double(sample.budget)),
            "offered": .number(Double(sample.offered)),
            "kept": .number(Double(sample.kept)),
            "rate": .number(sample.rate),
            "weight": .number(sample.weight),
            "weighted": .string("fit, standardization, train/validation split, validation metrics and alert rates"),
        ])
    }

    static func json(_ source: SourceSummary, _ tally: RecordTally) -> JSONValue {
        .object([
            "source": .string(source.description),
            "records": .number(Double(source.records)),
            "bytes": .number(Double(source.bytes)),
            "bad_records": .number(Double(tally.badCount)),
            "bad_by_reason": .object(tally.bad.mapValues { .number(Double($0)) }),
            "sha256": .string(source.sha256),
        ])
    }

    static func json(_ e: ModelEvaluation) -> JSONValue {
        func optional(_ x: Double?) -> JSONValue { x.map { .number($0) } ?? .null }
        func point(_ p: OperatingPoint) -> JSONValue {
            .object([
                "threshold": .number(p.threshold),
                "precision": optional(p.precision),
                "recall": optional(p.recall),
                "rate": .number(p.rate),
            ])
        }
        return .object([
            "version": .string(e.version),
            "roc_auc": optional(e.rocAUC),
            "pr_auc": optional(e.prAUC),
            "review": point(e.review),
            "block": point(e.block),
            "alert_rate": .number(e.alertRate),
            "examples": .number(Double(e.examples)),
            "positives": .number(Double(e.positives)),
            "traffic": .number(Double(e.traffic)),
        ])
    }
}
