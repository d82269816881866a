import XCTest
import VigilTraining
@testable import VigilConsole

final class ClickLedgerTests: XCTestCase {
    let click = ClickLedger.Click(clickId: "click-0001", transactionId: "tx-1", isFraud: true, analyst: "ana")

    func testOneClickProducesOnceHoweverOftenItIsRetried() {
        var ledger = ClickLedger()
        guard case .produce(let label) = ledger.click(click, existing: nil, nowMs: 42) else { return XCTFail() }
        XCTAssertEqual(label, ConsoleLabel(transactionId: "tx-1", isFraud: true, reportedAtMs: 42, reportedBy: "ana", clickId: "click-0001"))
        XCTAssertEqual(ledger.click(click, existing: nil, nowMs: 50), .wait, "a retry while in flight waits")
        ledger.delivered("click-0001")
        XCTAssertEqual(ledger.click(click, existing: nil, nowMs: 60), .alreadyDelivered(label))
        XCTAssertEqual(ledger.click(click, existing: label.worked, nowMs: 60), .alreadyDelivered(label),
                       "a retry after the label is read back still answers success, not 'already labelled'")
    }

    func testASecondClickOnALabelledAlertIsRefused() {
        var ledger = ClickLedger()
        _ = ledger.click(click, existing: nil, nowMs: 1)
        var other = click
        other.clickId = "click-0002"
        other.analyst = "bo"
        XCTAssertEqual(ledger.click(other, existing: nil, nowMs: 2), .refuseInFlight(by: "ana"))
        ledger.delivered("click-0001")
        guard case .refuse(let worked) = ledger.click(other, existing: nil, nowMs: 3) else { return XCTFail() }
        XCTAssertEqual(worked.reportedBy, "ana")
        let onKafka = WorkedLabel(isFraud: false, reportedAtMs: 1, reportedBy: nil, source: nil)
        var fresh = ClickLedger()
        XCTAssertEqual(fresh.click(click, existing: onKafka, nowMs: 1), .refuse(onKafka), "labelled by a chargeback system")
    }

    func testOnlyAFailedDeliveryIsProducedAgain() {
        var ledger = ClickLedger()
        _ = ledger.click(click, existing: nil, nowMs: 1)
        ledger.failed("click-0001", reason: "timed out")
        guard case .failed(_, "timed out")? = ledger.state(of: "click-0001") else { return XCTFail() }
        guard case .produce(let again) = ledger.click(click, existing: nil, nowMs: 9) else { return XCTFail() }
        XCTAssertEqual(again.reportedAtMs, 1, "the same label, as first clicked")
        ledger.delivered("click-0001")
        ledger.failed("click-0001", reason: "late report")  // ignored: only an in-flight click changes
        guard case .delivered? = ledger.state(of: "click-0001") else { return XCTFail() }
    }

    /// A delivery that timed out after the message was sent may have written it: producing again could label twice.
    func testAPossiblyWrittenLabelWaitsToBeReadBackBeforeItIsProducedAgain() {
        var ledger = ClickLedger()
        guard case .produce(let label) = ledger.click(click, existing: nil, nowMs: 1_000) else { return XCTFail() }
        ledger.uncertain("click-0001", nowMs: 2_000)
        XCTAssertEqual(ledger.click(click, existing: nil, nowMs: 3_000), .wait, "a retry of the click waits")
        let other = ClickLedger.Click(clickId: "click-0002", transactionId: "tx-1", isFraud: false, analyst: "bo")
        XCTAssertEqual(ledger.click(other, existing: nil, nowMs: 3_000), .refuseInFlight(by: "ana"), "another click is refused")
        // Read back: it was written; the click is done.
        XCTAssertEqual(ledger.click(click, existing: label.worked, nowMs: 4_000), .alreadyDelivered(label))
        guard case .delivered? = ledger.state(of: "click-0001") else { return XCTFail() }

        // Not read back within the window: it was not written, and the same click produces again (once).
        var lost = ClickLedger()
        _ = lost.click(click, existing: nil, nowMs: 1_000)
        lost.uncertain("click-0001", nowMs: 2_000)
        XCTAssertEqual(lost.click(click, existing: nil, nowMs: 2_000 + ClickLedger.uncertainWindowMs - 1), .wait)
        guard case .produce(let again) = lost.click(click, existing: nil, nowMs: 2_000 + ClickLedger.uncertainWindowMs) else {
            return XCTFail()
        }
        XCTAssertEqual(again, label)
        XCTAssertEqual(lost.click(click, existing: nil, nowMs: 2_000 + ClickLedger.uncertainWindowMs + 1), .wait)
        // Someone else's label read back meanwhile: refused, showing theirs.
        var theirs = ClickLedger()
        _ = theirs.click(click, existing: nil, nowMs: 1_000)
        theirs.uncertain("click-0001", nowMs: 2_000)
        let chargeback = WorkedLabel(isFraud: false, reportedAtMs: 1_500, reportedBy: nil, source: nil)
        XCTAssertEqual(theirs.click(click, existing: chargeback, nowMs: 3_000), .refuse(chargeback))
    }

    func testAClickIdReusedForAnotherLabelIsAMismatch() {
        var ledger = ClickLedger()
        _ = ledger.click(click, existing: nil, nowMs: 1)
        var changed = click
        changed.isFraud = false
        XCTAssertEqual(ledger.click(changed, existing: nil, nowMs: 2), .mismatch)
        changed = click
        changed.analyst = "mallory"
        XCTAssertEqual(ledger.click(changed, existing: nil, nowMs: 2), .mismatch)
    }

    func testForgetsTheOldestClicks() {
        var ledger = ClickLedger(capacity: 2)
        for i in 1...3 {
            _ = ledger.click(.init(clickId: "click-000\(i)", transactionId: "tx-\(i)", isFraud: true, analyst: "ana"), existing: nil, nowMs: 1)
        }
        XCTAssertNil(ledger.state(of: "click-0001"))
        XCTAssertNotNil(ledger.state(of: "click-0003"))
    }

    func testTheLabelIsContractSchema2AndTheTrainingReadersAcceptIt() throws {
        let label = ConsoleLabel(transactionId: "tx-\"1\"", isFraud: true, reportedAtMs: 1_766_592_000_000, reportedBy: "Ana Öz", clickId: "c-1")
        XCTAssertEqual(
            String(decoding: label.json, as: UTF8.self),
            #"{"schema_version":2,"transaction_id":"tx-\"1\"","is_fraud":true,"reported_at_ms":1766592000000,"reported_by":"Ana Öz","source":"console","click_id":"c-1"}"#)
        XCTAssertEqual(label.key, Array("tx-\"1\"".utf8))
        let parsed = try LabelRecord.parse(label.json)
        XCTAssertEqual(parsed, LabelRecord(
            transactionId: "tx-\"1\"", isFraud: true, reportedAtMs: 1_766_592_000_000, reportedBy: "Ana Öz", source: "console"))
    }
}
