"""The demo: a four-tier apparel supply chain, verified before and after remediation.

Cotton farm (India, tier 4) -> ginning and spinning mill (India, tier 3) -> knit
fabric mill (Vietnam, tier 2) -> garment factory (Bangladesh, tier 1) -> the
brand. Two auditors; an unannounced audit finds debt bondage and retained
passports at the spinning mill, so the T-shirt batch made from its yarn FAILs.
The auditor verifies the remediation onsite and the follow-up is anchored: that
batch still FAILs (its yarn was spun while the indicator was open), and a new
batch made from yarn spun after the remediation PASSes.

Everything runs on the embedded development chain in a new workspace. The
parties' keys other than the admin's live only in memory for the run.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger._resources import shipped_dir
from labourledger.bundle import read_bundle
from labourledger.envelope import to_hex
from labourledger.ledger import Ledger
from labourledger.presentation import annotate
from labourledger.report import write_report
from labourledger.verify.batch import verify_batch
from labourledger.verify.bundled import BundleEvidence
from labourledger.verify.policy import Policy
from labourledger.workspace import EMBEDDED

__all__ = ["DemoResult", "run_demo"]

Say = Callable[[str], None]
FUNDS_WEI = 10 * 10**18
#: The business document behind each tier's transformation.
PAPERS = {3: ("purchase_order", "PO-4411"), 2: ("invoice", "INV-2026-0912"),
          1: ("bill_of_lading", "BL-CGP-77120")}  # fmt: skip


@dataclass(frozen=True)
class DemoResult:
    """Where the demo left its workspace and files, and the verdicts: the first batch before
    and after the remediation, and the batch made after it (`batch`, which the report and
    the bundle are about)."""

    workspace: Path
    batch: str
    before: dict[str, Any]
    still: dict[str, Any]
    after: dict[str, Any]
    report: Path
    bundle: Path
    bundle_verdict: str


def _party(
    ledger: Ledger, admin: LocalAccount, role: str, granter: LocalAccount | None = None
) -> LocalAccount:
    account: LocalAccount = Account.create()
    ledger.chain.fund(account.address, FUNDS_WEI)
    ledger.grant_role(granter or admin, role, account.address)
    return account


def _id(entry: Any) -> str:
    return "0x" + bytes(entry.subject).hex()


def run_demo(
    root: Path,
    say: Say = lambda _: None,
    *,
    admin_passphrase: str | None = None,
    chain: str = EMBEDDED,
) -> DemoResult:
    """Run the whole story in a new workspace at `root`; `say` narrates each step.

    The admin key's passphrase is random unless given: the workspace is a throwaway.
    `chain` is the embedded chain or the URL of a development node with funded accounts.
    """
    # UTC, as block times are: a closure takes effect on its anchor's UTC date.
    today = dt.datetime.now(dt.UTC).date()

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    say(f"creating a workspace on the {chain} development chain and deploying the contract")
    passphrase = admin_passphrase or secrets.token_urlsafe(24)
    # A development node mines only when asked: waiting for confirmations would never end.
    ledger = Ledger.init(root, chain=chain, confirmations=0, admin_passphrase=passphrase)
    if chain != EMBEDDED:
        # init deploys only on the embedded chain; a node gets the same admin and contract.
        ledger.chain.fund(ledger.workspace.keys.new("admin", passphrase).address, FUNDS_WEI)
        ledger.deploy(ledger.workspace.keys.unlock("admin", passphrase))
    admin = ledger.workspace.keys.unlock("admin", passphrase)
    brand = _party(ledger, admin, "BRAND")
    auditor_in = _party(ledger, admin, "AUDITOR")  # a SMETA audit firm in Chennai
    auditor_vn = _party(ledger, admin, "AUDITOR")  # an amfori BSCI auditor in Ho Chi Minh City
    spinner_key = _party(ledger, admin, "SUPPLIER", granter=brand)

    say("the brand registers four facilities in three countries and their supply links")
    data = shipped_dir("_demo", "examples/demo")
    imported = ledger.import_facilities(data / "facilities.csv", brand)
    facility = {e.body["tier"]: _id(e) for e in imported.entries}
    os_ids = {e.body["os_id"]: _id(e) for e in imported.entries}
    for supplier, buyer, material in (
        (4, 3, "seed cotton"),
        (3, 2, "cotton yarn"),
        (2, 1, "knitted fabric"),
    ):
        ledger.record(
            "supply_link",
            {"supplier": facility[supplier], "buyer": facility[buyer], "material": material,
             "valid_from": day(-400)},
            brand,
        )  # fmt: skip
    # The spinning mill's own key: only its declarations count for the mill.
    ledger.change_operators(facility[3], brand, add=[spinner_key.address])

    say("batches from raw cotton to T-shirts, with hashed business documents")
    tee = {"gtin": "4006381333931", "sku": "NW-TEE-ORG", "name": "Organic cotton T-shirt",
           "brand": "Northwind"}  # fmt: skip
    product = _id(ledger.record("product", tee, brand))
    documents = root / "documents"
    documents.mkdir()

    def make(lots: list[tuple[int, str, int, str, int]], made_from: str | None) -> str:
        """Record batches, each tier's made from the one above with its business document;
        the first lot starts from `made_from` when given. Returns the T-shirt batch."""
        made: dict[int, str] = {}
        for tier, lot, quantity, unit, offset in lots:
            body = {"product": product, "lot": lot, "quantity": quantity, "unit": unit,
                    "produced_at": day(offset), "facility": facility[tier]}  # fmt: skip
            made[tier] = _id(ledger.record("batch", body, brand))
            source = made.get(tier + 1, made_from)
            if source is None:
                continue
            doc_type, number = PAPERS[tier]
            path = documents / f"{number}-{lot}.txt"
            path.write_text(f"{doc_type} {number} for lot {lot}\n")
            ref = ledger.store_evidence(path).model_dump()
            ledger.record(
                "transformation",
                {"inputs": [source], "output": made[tier], "facility": facility[tier],
                 "date": day(offset), "documents": [ref | {"type": doc_type, "number": number}]},
                brand,
            )  # fmt: skip
        return made[1] if made_from else made[4]

    cotton = make([(4, "COT-26-014", 12000, "kg", -60)], None)
    first = make(
        [(3, "YRN-26-118", 9000, "kg", -45), (2, "FAB-26-077", 8000, "kg", -30),
         (1, "TEE-26-0425", 24000, "pcs", -10)],
        cotton,
    )  # fmt: skip

    say("two auditors sign audits; the spinning mill's unannounced audit finds forced labour")
    auditors = {"auditor_in": auditor_in, "auditor_vn": auditor_vn}
    spinning_audit = ""
    for audit in json.loads((data / "audits.json").read_text())["audits"]:
        ended = -audit["ended_days_ago"]
        findings = []
        for finding in audit["findings"]:
            plan = finding.get("corrective_action")
            if plan:
                due = day(ended + plan["due_in_days"])
                finding = finding | {
                    "corrective_action": {"action": plan["action"], "due_date": due}
                }
            findings.append(finding)
        entry = ledger.record(
            "audit",
            {"facility": os_ids[audit["facility"]], "standard": audit["standard"],
             "audit_type": "periodic", "notice": audit["notice"], "start_date": day(ended - 2),
             "end_date": day(ended), "workers_interviewed": 25,
             "result": "conditional" if findings else "pass", "valid_until": day(ended + 365),
             "findings": findings},
            auditors[audit["auditor"]],
        )  # fmt: skip
        if findings:
            spinning_audit = to_hex(entry.entry_id)
    say("a supplier declaration and three certificates")
    ledger.record(
        "attestation",
        {"facility": facility[3], "claim": "no_recruitment_fees", "valid_from": day(-100),
         "valid_until": day(265)},
        spinner_key,
    )  # fmt: skip
    for tier, auditor, standard in ((4, auditor_in, "SA8000"), (2, auditor_vn, "amfori BSCI"),
                                    (1, auditor_vn, "amfori BSCI")):  # fmt: skip
        ledger.record(
            "attestation",
            {"facility": facility[tier], "claim": "certificate", "standard": standard,
             "certificate_number": f"{standard.split()[0]}-{tier}-2026", "valid_from": day(-300),
             "valid_until": day(400)},
            auditor,
        )  # fmt: skip

    [anchor] = ledger.anchor(brand)
    say(f"anchored {anchor.size} entries in block {anchor.block_number} ({anchor.gas_used} gas)")
    before = ledger.verify(first)
    say(f"verify TEE-26-0425: {before['verdict']}")

    say("the auditor verifies the remediation onsite today; the brand anchors the follow-up")
    ledger.record(
        "finding_update",
        {"audit": spinning_audit, "finding_id": "F-1", "status": "closed",
         "verification_method": "onsite", "verified_on": day(0),
         "note": "Fees reimbursed to 212 workers; documents returned and lockers installed"},
        auditor_in,
    )  # fmt: skip
    ledger.anchor(brand)
    still = ledger.verify(first)
    say(f"verify TEE-26-0425 again: {still['verdict']}: its yarn was spun while F-1 was open")

    say("yarn spun after the remediation makes a new T-shirt batch")
    batch = make(
        [(3, "YRN-26-131", 9000, "kg", 0), (2, "FAB-26-090", 8000, "kg", 0),
         (1, "TEE-26-0519", 24000, "pcs", 0)],
        cotton,
    )  # fmt: skip
    ledger.anchor(brand)
    after = ledger.verify(batch)
    say(f"verify TEE-26-0519: {after['verdict']}")

    report = write_report(after, root / "tracing-report.html", annotate(ledger, after))
    bundle = root / "bundle.json"
    bundle.write_text(ledger.export_bundle(batch).model_dump_json(indent=2) + "\n")
    checked = BundleEvidence(read_bundle(bundle), ledger.chain)
    bundle_verdict = verify_batch(checked, batch, Policy()).verdict.value.upper()
    say(f"the bundle, checked in an empty workspace against the chain: {bundle_verdict}")
    return DemoResult(root, batch, before, still, after, report, bundle, bundle_verdict)
