import Foundation

extension LoadTestRun {
    /// Copies the ledger's counts, latencies and quality, and the monitor's samples, into the result.
    func collect(
        ledger: Ledger, publisher: Publisher.Status, reader: OutcomeReader, monitor: Monitor, startNs: Int64,
        into result: inout RunResult
    ) {
        let snap = ledger.snapshot
        let m = snap.measured
        result.published = m.published
        result.publishFailures = publisher.deliveryFailures + publisher.produceErrors
        if result.publishFailures > 0 {
            result.warnings.append("\(result.publishFailures) transactions were not delivered to Kafka: \((publisher.deliveryErrors.first ?? publisher.firstError) ?? "")")
        }
        result.malformedPublished = m.malformedPublished
        result.generatorLatePublished = m.generatorLatePublished
        result.fraudPublished = m.fraudPublished
        result.outcomes = m.outcomes
        result.decisions = m.decisions
        result.late = m.late
        result.dlq = m.dlq
        result.alerts = m.alerts
        result.reviewOrBlock = m.reviewOrBlock
        if m.alerts != m.reviewOrBlock {
            result.warnings.append("Alerts (\(m.alerts)) differ from review-or-block decisions (\(m.reviewOrBlock)); the contract wants one alert per review or block.")
        }
        result.duplicates = snap.duplicates
        result.foreign = snap.foreign
        // DLQ messages are not matched to transactions, so malformed ones count as missing only beyond the DLQ count.
        let missing = ledger.missingLabelled()
        result.missingLabelled = missing
        result.missingMalformed = max(0, m.published - m.outcomes - missing)
        if m.outcomes > m.published {
            result.warnings.append("More outcomes than published messages (\(m.outcomes) > \(m.published)): some DLQ messages were not this run's.")
        }
        let latencies = ledger.latencies
        result.latencyFromScheduled = LatencySummary(latencies.fromScheduled)
        result.latencyFromSent = LatencySummary(latencies.fromSent)
        result.latencyFromInputReadable = LatencySummary(latencies.fromInputReadable)
        result.attackPublished = m.attackPublished
        result.attackDecisions = m.attackDecisions
        if m.attackPublished > 0 {
            let attack = ledger.attackLatencies
            result.attackLatencyFromScheduled = LatencySummary(attack.fromScheduled)
            result.attackLatencyFromSent = LatencySummary(attack.fromSent)
            result.attackLatencyFromInputReadable = LatencySummary(attack.fromInputReadable)
        }
        result.quality = ledger.detectionQuality()
        result.readerErrors = reader.errors.value
        let consumeErrors = reader.consumeErrors
        if consumeErrors.count > 0 {
            result.readerErrors.append("\(consumeErrors.count) consume errors, last: \(consumeErrors.last ?? "?")")
        }
        result.samples = monitor.samples.value
    }

    /// Rates, CPU and memory over the samples whose second lies in [from, to] (the run's active window).
    func summarize(samples: [Sample], from: Double, to: Double, into result: inout RunResult) {
        var window = samples.filter { Double($0.second) >= from && Double($0.second) <= to }
        if window.isEmpty { window = samples }
        let rates = window.map { Double($0.outcomes) }.sorted()
        if !rates.isEmpty {
            result.medianSecondRate = rates[rates.count / 2]
            result.minSecondRate = rates.first
            result.peakSecondRate = rates.last
        }
        let cpu = window.compactMap(\.vigilCPUPercent)
        if !cpu.isEmpty { result.vigilCPUMeanPercent = cpu.reduce(0, +) / Double(cpu.count) }
        result.vigilCPUMaxPercent = samples.compactMap(\.vigilCPUPercent).max()
        result.vigilRSSMaxBytes = samples.compactMap(\.vigilRSSBytes).max()
        result.vigilRSSEndBytes = samples.last(where: { $0.vigilRSSBytes != nil })?.vigilRSSBytes
        let tool = window.compactMap(\.toolCPUPercent)
        if !tool.isEmpty { result.toolCPUMeanPercent = tool.reduce(0, +) / Double(tool.count) }
    }

    /// Redis memory at the end against the baseline, and the keys Vigil left; cleans up a Redis the user gave.
    func collectRedis(_ redis: RedisProbe, environment: TestEnvironment, into result: inout RunResult) {
        result.redisEndBytes = redis.usedMemory()
        result.redisKeys = redis.keyFigures(prefix: settings.runId)
        if let keys = result.redisKeys, keys.cardKeys > 0, let end = result.redisEndBytes, let base = result.redisBaselineBytes {
            result.redisBytesPerCard = Double(end - base) / Double(keys.cardKeys)
        }
        if !environment.isThrowawayRedis && !settings.keepRedisKeys {
            result.redisKeysDeleted = redis.deleteKeys(prefix: settings.runId)
        }
    }
}
