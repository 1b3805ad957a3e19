"""A second scenario (issue 13): a worker hotline at the demo's knit fabric mill.

    python examples/hotline.py /tmp/labourledger-hotline

After the demo's story (`labourledger.demo.run_demo`), a hotline accredited by
the admin hears of wage deductions at Saigon Knit Fabrics, received last month.
It records the grievance in its own right, reads a receipt code out to the
caller, and anchors the entry itself. The batch needs attention while the
grievance is open; the hotline substantiates it, the mill repays, the hotline
marks it remediated. Goods made before the remediation stay marked by it. The
tracing report shows the counts, never the report or the code, and the caller
checks the receipt from the brand's bundle alone, held in memory.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import time
from pathlib import Path

from eth_account import Account

from labourledger import grievances, receipts
from labourledger.demo import run_demo
from labourledger.ledger import Ledger
from labourledger.report import write_report

started = time.monotonic()
root = Path(sys.argv[1] if len(sys.argv) > 1 else "labourledger-hotline")
passphrase = secrets.token_urlsafe(24)
story = run_demo(root / "workspace", admin_passphrase=passphrase)
ledger = Ledger.open(story.workspace)
print(f"the demo's batch {story.batch[:14]}…: {story.after['verdict']}")

admin = ledger.workspace.keys.unlock("admin", passphrase)
hotline = Account.create()
ledger.chain.fund(hotline.address, 10**18)
ledger.grant_role(admin, "GRIEVANCE_CHANNEL", hotline.address)
mill = next(
    s["facility"]["facility_id"]
    for s in story.after["stages"]
    if s["facility"]["name"] == "Saigon Knit Fabrics"
)
last_month = (dt.date.today() - dt.timedelta(days=40)).strftime("%Y-%m")
# The call notes stay with the hotline; only their salted hash is signed.
notes = b"Caller reports 400,000 VND deducted monthly for 'dormitory'; several on her line."
recorded = grievances.record(
    ledger,
    hotline,
    facility=mill,
    received_month=last_month,
    channel="hotline",
    categories=["withholding_of_wages", "wages"],
    severity="major",
    workers="6-20",
    report=notes,
)
grievance = "0x" + recorded.entry.entry_id.hex()
print(f"hotline recorded grievance {grievance[:14]}…; receipt read out once: {recorded.receipt}")
ledger.anchor(hotline)  # the channel anchors its own entry: no brand can keep it off the chain


def show(stage: str) -> None:
    report = ledger.verify(story.batch)
    check = next(
        c for c in report["checks"] if c["check"] == "worker_grievances" and c["facility"] == mill
    )
    print(f"{stage}: worker grievances {check['outcome'].upper()} ({check['reason']})")
    print(f"  the batch: {report['verdict']}")


show("received")
for status in ("substantiated", "remediated"):
    grievances.update(ledger, hotline, grievance, status=status)
    ledger.anchor(hotline)
    show(status)

print("(remediated after these goods were made: they stay marked; later goods will not be)")
final = ledger.verify(story.batch)
counts = next(s for s in final["stages"] if s["facility"]["facility_id"] == mill)["grievances"]
print("the report shows:", counts["summary"])
report = write_report(final, root / "hotline-report.html")
print("tracing report:", report)

bundle = ledger.export_bundle(story.batch)
buyer = Ledger.from_bundle(bundle, ledger.chain)  # in memory: nothing but the bundle
receipt = receipts.check_receipt(buyer, recorded.receipt)
history = " → ".join(f"{h['status']} ({h['month']})" for h in receipt.history)
print(
    f"receipt check from the bundle: received {receipt.received_month}, anchored in block "
    f"{receipt.block_number} (proof checked: {receipt.proof_verified}), {receipt.status}: {history}"
)
print(f"scenario took {time.monotonic() - started:.1f} s")
