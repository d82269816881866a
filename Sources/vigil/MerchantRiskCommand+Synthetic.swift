import ArgumentParser
import VigilCore
import VigilTraffic
import VigilTraining

extension MerchantRiskCommand {
    /// History for measuring the job at scale (docs/performance.md): `transactions` messages spread evenly over
    /// `--synthesize-days` ending 2026-11-25T00:00:00Z at `--synthesize-merchants` merchants (popularity skewed:
    /// merchant `M * u^2` for uniform `u`), 0.5% delivered twice; 0.3% of payments are fraud, and at 0.2% of the
    /// merchants (compromised) half of them are. Fraud is reported 1-60 days later (90% of it ever), 1% of genuine
    /// payments get a non-fraud label within 3 days, and 5% of fraud labels are reversed by a later non-fraud one.
    /// Labels reported after the end are not written.
    func writeSynthetic(count: Int) throws {
        let day: Int64 = 86_400_000
        let endMs: Int64 = 1_795_564_800_000
        let startMs = endMs - Int64(synthesizeDays * Double(day))
        let merchants = synthesizeMerchants
        var random = SplitMix64(seed: seed)
        let transactions = try LineWriter(path: transactionsFiles[0])
        let labels = try LineWriter(path: labelsFiles[0])
        let console = ProgressConsole()
        console.show(.stage("writing synthetic history"))
        var written = 0, duplicates = 0, fraud = 0, labelCount = 0
        var serial = 0
        func label(_ id: String, _ isFraud: Bool, _ reportedAt: Int64) {
            guard reportedAt <= endMs else { return }
            labels.write(Array("{\"schema_version\":1,\"transaction_id\":\"\(id)\",\"is_fraud\":\(isFraud),\"reported_at_ms\":\(reportedAt)}".utf8))
            labelCount += 1
        }
        while written < count {
            let u = random.unit()
            let merchant = min(merchants - 1, Int(Double(merchants) * u * u))
            let time = startMs + (endMs - startMs) * Int64(serial) / Int64(count)
            let id = "tx-\(serial)"
            serial += 1
            let line = Array(("{\"schema_version\":1,\"transaction_id\":\"\(id)\",\"card_id\":\"card-\(random.next() % 400_000)\","
                + "\"amount_minor\":\(1 + random.next() % 50_000),\"currency\":\"EUR\",\"merchant_id\":\"m-\(merchant)\","
                + "\"mcc\":\"5411\",\"country\":\"DE\",\"channel\":\"pos\",\"event_time_ms\":\(time)}").utf8)
            transactions.write(line)
            written += 1
            if random.unit() < 0.005, written < count {
                transactions.write(line)
                written += 1
                duplicates += 1
            }
            let compromised = merchant % 500 == 499
            let isFraud = random.unit() < (compromised ? 0.5 : 0.003)
            if isFraud {
                fraud += 1
                if random.unit() < 0.9 {
                    let reported = time + day + Int64(random.unit() * 59 * Double(day))
                    label(id, true, reported)
                    if random.unit() < 0.05 { label(id, false, reported + Int64(random.unit() * 10 * Double(day))) }
                }
            } else if random.unit() < 0.01 {
                label(id, false, time + Int64(random.unit() * 3 * Double(day)))
            }
            if written % 500_000 == 0 {
                console.show(.reading("synthetic", ReadProgress(source: "synthesize", records: written, bytes: 0, expectedRecords: Int64(count))))
            }
        }
        try transactions.close()
        try labels.close()
        console.finish()
        print("wrote \(written) transactions (\(duplicates) duplicates, \(fraud) fraud) at up to \(merchants) merchants to "
            + "\(transactionsFiles[0]) and \(labelCount) labels to \(labelsFiles[0]), event time \(UTCTime.iso(startMs)) .. \(UTCTime.iso(endMs))")
    }
}
