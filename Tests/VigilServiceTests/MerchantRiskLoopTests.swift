import Foundation
import VigilTraffic
import XCTest

/// Issue 11's end-to-end loop: traffic with compromised merchants, served by the card-only model; merchant-risk
/// tables computed and served daily; a catalog-2 model trained on what was served; the final weeks served by it.
/// The loop is `MerchantRiskLoop`; `VIGIL_LOOP_*` variables change its size (scripts/merchant-loop.sh).
final class MerchantRiskLoopTests: XCTestCase {
    func testMerchantRiskLoopCatchesCompromisedMerchantsTheCardOnlyModelMisses() throws {
        let figures = try MerchantRiskLoop(settings: .fromEnvironment()).run()
        print(figures.report)
        if ProcessInfo.processInfo.environment["VIGIL_LOOP_SUMMARIES"] != nil {
            for summary in figures.trainingSummaries { print(summary) }
        }
        XCTAssertEqual(figures.merchantRiskErrors, 0, "every batch found its snapshot")
        XCTAssertEqual(figures.servedVerdictMismatches, 0, "offline scoring reproduces what the pipeline served")
        XCTAssertGreaterThan(figures.snapshots.count, 20)

        let baseline = figures.model("card-only baseline"), cardOnly = figures.model("card-only retrained")
        let aware = figures.model("merchant-aware")
        let compromised = aware.recall(.compromisedMerchant)
        XCTAssertGreaterThan(compromised.transactions, 100, "enough compromised-merchant fraud in the final phase")

        // Card-only: compromised-merchant fraud flagged at about chance (no more than a few times the alert rate).
        for m in [baseline, cardOnly] {
            XCTAssertLessThan(m.recall(.compromisedMerchant).reviewedShare, max(0.05, 3 * m.alertRate), m.name)
        }
        // Merchant-aware: far more of it, within the alert budget, blocking precisely.
        XCTAssertGreaterThan(compromised.reviewedShare, cardOnly.recall(.compromisedMerchant).reviewedShare + 0.25)
        XCTAssertGreaterThan(compromised.reviewedShare, 0.5)
        XCTAssertLessThanOrEqual(aware.alertRate, 0.025)
        XCTAssertGreaterThanOrEqual(aware.blockPrecision, 0.8)
        // The card patterns, together, are not reviewed or blocked less than by the card-only model retrained on the same data.
        XCTAssertGreaterThanOrEqual(aware.cardPatterns.reviewedShare, cardOnly.cardPatterns.reviewedShare - 0.05)
    }
}
