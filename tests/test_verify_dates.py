"""Issue 10: a verdict judges each facility at its production date, waits for confirmations
instead of failing, and says when the goods list does not speak about a good.

A four-tier electronics chain on anvil: cobalt mine (CD) -> refiner (CN) -> cell maker (KR)
-> laptop assembler (VN). The brand and the auditor work in workspaces of their own; the
auditor anchors its own entries and the brand imports them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clihelp import FAST_ENV, PASSPHRASE, Cli
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import RPCEndpoint

from labourledger.envelope import SignedEntry
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

FUNDS = 10**18
TODAY = dt.datetime.now(dt.UTC).date()
#: Tier -> (name, country, facility type, what it does).
SITES = {
    4: ("Kolwezi Artisanal Cobalt Cooperative", "CD", "Raw Material Processing or Production",
        "cobalt mining"),
    3: ("Ganzhou Cobalt Refinery", "CN", "Raw Material Processing or Production",
        "cobalt refining"),
    2: ("Cheongju Cell Works", "KR", "Textile or Material Production", "battery cells"),
    1: ("Hai Phong Laptop Assembly", "VN", "Final Product Assembly", "laptop assembly"),
}  # fmt: skip
#: Days before today each tier's lot was made.
MADE = {4: 110, 3: 62, 2: 40, 1: 20}


def day(days_ago: int) -> str:
    return (TODAY - dt.timedelta(days=days_ago)).isoformat()


@dataclass(frozen=True)
class Chain:
    """The brand's workspace, the auditor's, and the ids the tests need."""

    brand_ws: Ledger
    brand: LocalAccount
    auditor_ws: Ledger
    auditor: LocalAccount
    facility: dict[int, str]
    laptops: str
    lots: dict[int, str]

    def audit(self, tier: int, ended_days_ago: int, *findings: dict[str, Any]) -> SignedEntry:
        """An unannounced audit of a tier's facility, signed in the auditor's workspace."""
        return self.auditor_ws.record(
            "audit",
            {"facility": self.facility[tier], "standard": "RBA VAP", "audit_type": "periodic",
             "notice": "unannounced", "start_date": day(ended_days_ago + 3),
             "end_date": day(ended_days_ago), "workers_interviewed": 40,
             "result": "fail" if findings else "pass", "findings": list(findings)},
            self.auditor,
        )  # fmt: skip

    def hand_over(self, path: Path, *entries: SignedEntry) -> None:
        """The auditor anchors its entries itself; the brand imports them with their proofs."""
        self.auditor_ws.anchor(self.auditor)
        self.brand_ws.import_file(self.auditor_ws.write_entries(path, entries, with_proofs=True))

    def verify(self, batch: str | None = None, *, all_checks: bool = False) -> dict[str, Any]:
        return self.brand_ws.verify(batch or self.laptops, all_checks=all_checks)


def _finding(fid: str, indicator: str, severity: str, description: str) -> dict[str, Any]:
    return {"id": fid, "ilo_indicators": [indicator], "severity": severity,
            "description": description}  # fmt: skip


def _build(root: Path, anvil_url: str, confirmations: int) -> Chain:
    brand_ws = Ledger.init(root / "brand", chain=anvil_url, confirmations=confirmations)
    brand_ws.chain.fund(brand_ws.workspace.keys.new("admin", PASSPHRASE).address, 10 * FUNDS)
    admin = brand_ws.workspace.keys.unlock("admin", PASSPHRASE)
    brand_ws.deploy(admin)
    brand: LocalAccount = Account.create()
    brand_ws.chain.fund(brand.address, FUNDS)
    brand_ws.grant_role(admin, "BRAND", brand.address)
    auditor_ws = Ledger.init(
        root / "auditor", chain=anvil_url, contract=brand_ws.config.chain.contract
    )
    auditor_ws.workspace.keys.new("auditor", PASSPHRASE)
    auditor = auditor_ws.workspace.keys.unlock("auditor", PASSPHRASE)
    brand_ws.chain.fund(auditor.address, FUNDS)
    brand_ws.grant_role(admin, "AUDITOR", auditor.address)

    def entry_id(entry: SignedEntry) -> str:
        return "0x" + bytes(entry.subject).hex()

    facility = {}
    for tier, (name, country, kind, what) in SITES.items():
        body = {"name": name, "country": country, "address": f"{name}, {country}",
                "facility_type": kind, "processing_types": [what], "tier": tier}  # fmt: skip
        facility[tier] = entry_id(brand_ws.record("facility", body, brand))
    for tier, material in ((4, "cobalt hydroxide"), (3, "cobalt sulfate"), (2, "battery cells")):
        brand_ws.record(
            "supply_link",
            {"supplier": facility[tier], "buyer": facility[tier - 1], "material": material,
             "valid_from": day(400)},
            brand,
        )  # fmt: skip
    product = entry_id(
        brand_ws.record(
            "product", {"sku": "NB-14-2026", "name": "14-inch laptop", "brand": "Northwind"}, brand
        )
    )
    lots: dict[int, str] = {}
    for tier in (4, 3, 2, 1):
        body = {"product": product, "lot": f"LOT-T{tier}", "quantity": 1000, "unit": "kg",
                "produced_at": day(MADE[tier]), "facility": facility[tier]}  # fmt: skip
        lots[tier] = entry_id(brand_ws.record("batch", body, brand))
        if tier < 4:
            brand_ws.record(
                "transformation",
                {"inputs": [lots[tier + 1]], "output": lots[tier], "facility": facility[tier],
                 "date": day(MADE[tier])},
                brand,
            )  # fmt: skip
    brand_ws.anchor(brand)
    return Chain(brand_ws, brand, auditor_ws, auditor, facility, lots[1], lots)


@pytest.fixture
def electronics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anvil_url: str) -> Chain:
    """The chain on anvil, every lot anchored, no audit yet; no confirmations to wait for."""
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    return _build(tmp_path, anvil_url, confirmations=0)


def _checks(report: dict[str, Any], chain: Chain, tier: int) -> dict[str, tuple[str, str]]:
    facility = chain.facility[tier]
    return {c["check"]: (c["outcome"], c["reason"]) for c in report["checks"]
            if c["facility"] == facility}  # fmt: skip


def _trace_status(chain: Chain, tier: int) -> str:
    graph = chain.brand_ws.trace(chain.laptops)
    status: str = next(
        n["audit_status"]
        for n in graph["nodes"]
        if n.get("facility") == chain.facility[tier] and "audit_status" in n
    )
    return status


def _clean_audits(chain: Chain, *tiers: int) -> list[SignedEntry]:
    return [chain.audit(tier, MADE[tier] + 30) for tier in tiers]


def test_goods_made_while_a_finding_was_open_fail_after_a_later_closure(
    electronics: Chain, tmp_path: Path
) -> None:
    chain = electronics
    # The refinery's unannounced audit ended 13 days before its lot was made, with a critical
    # finding still open: retained identity documents.
    refinery = chain.audit(
        3,
        MADE[3] + 13,
        _finding("F-1", "retention_of_identity_documents", "critical",
                 "passports of 38 migrant workers held by the labour agent"),
    )  # fmt: skip
    chain.hand_over(tmp_path / "audits.json", refinery, *_clean_audits(chain, 4, 2, 1))
    before = chain.verify()
    assert before["verdict"] == "FAIL"
    outcome, reason = _checks(before, chain, 3)["forced_labour_findings"]
    assert outcome == "fail"
    assert f"made {day(MADE[3])} while F-1" in reason and "still open" in reason

    # Two months later the auditor verifies the closure onsite and anchors it itself.
    closure = chain.auditor_ws.record(
        "finding_update",
        {"audit": "0x" + refinery.entry_id.hex(), "finding_id": "F-1", "status": "closed",
         "verification_method": "onsite", "verified_on": day(0)},
        chain.auditor,
    )  # fmt: skip
    chain.hand_over(tmp_path / "closure.json", closure)
    after = chain.verify()
    assert after["verdict"] == "FAIL"  # the lot was made while F-1 was open
    outcome, reason = _checks(after, chain, 3)["forced_labour_findings"]
    assert outcome == "fail"
    assert f"made {day(MADE[3])} while F-1 (retention of identity documents; critical)" in reason
    # Closed when verified and anchored: today, or tomorrow if the block came after midnight.
    [closed] = re.findall(r"closed (\d{4}-\d\d-\d\d)", reason)
    assert day(0) <= closed <= day(-1)
    # trace tells the same story about the refinery's lot.
    status = _trace_status(chain, 3)
    assert f"made {day(MADE[3])} while F-1" in status and f"closed {closed}" in status


def test_an_audit_ending_after_production_within_the_look_ahead_is_evidence(
    electronics: Chain, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    chain = electronics
    # The mine's audit ended 12 days after its lot was made, with a zero-tolerance finding.
    mine = chain.audit(
        4,
        MADE[4] - 12,
        _finding("F-1", "restriction_of_movement", "zero_tolerance",
                 "diggers locked in the compound between shifts"),
    )  # fmt: skip
    # Handed over before it is anchored, the audit counts for neither command.
    pending = chain.auditor_ws.write_entries(tmp_path / "pending.json", [mine])
    chain.brand_ws.import_file(pending)
    early = chain.verify()
    assert "no anchored audit" in _checks(early, chain, 4)["audit_valid"][1]
    status = _trace_status(chain, 4)
    assert status.startswith("no anchored audit covering") and "1 more not counted" in status
    chain.brand_ws.anchor(chain.brand)
    chain.hand_over(tmp_path / "audits.json", *_clean_audits(chain, 3, 2, 1))
    report = chain.verify(all_checks=True)  # the pass's reason too
    assert report["verdict"] == "FAIL"
    checks = _checks(report, chain, 4)
    assert checks["audit_valid"][0] == "pass"
    assert "after production, within the look-ahead" in checks["audit_valid"][1]
    outcome, reason = checks["forced_labour_findings"]
    assert outcome == "fail" and f"made {day(MADE[4])} while F-1" in reason
    assert "no anchored audit" not in str(report["checks"])
    status = _trace_status(chain, 4)
    assert f"made {day(MADE[4])} while F-1" in status and day(MADE[4] - 12) in status

    # With no look-ahead the audit says nothing about the lot: attention, never a false pass.
    cli = Cli(chain.brand_ws.workspace.root, capsys, monkeypatch)
    code, out, _ = cli.run("verify", chain.laptops, "--look-ahead-months", "0", "--json")
    assert code == 4
    narrow = _checks(json.loads(out), chain, 4)
    assert narrow["audit_valid"][0] == "attention"
    assert narrow["forced_labour_findings"][0] == "attention"
    assert "nothing was assessed" in narrow["forced_labour_findings"][1]


def test_cobalt_from_the_drc_is_not_assessed_by_an_apparel_only_list(
    electronics: Chain, tmp_path: Path
) -> None:
    chain = electronics
    chain.hand_over(tmp_path / "audits.json", *_clean_audits(chain, 4, 3, 2, 1))
    report = chain.verify(all_checks=True)  # passes listed, to show none is beside it
    outcome, reason = _checks(report, chain, 4)["goods_list"]
    assert outcome == "attention"
    assert reason.startswith("Kolwezi Artisanal Cobalt Cooperative: not assessed: the list covers")
    assert "apparel" in reason
    assert "high_risk_notice" not in _checks(report, chain, 4)  # no pass beside it
    # A cell maker filed under Open Supply Hub's "Textile or Material Production" type is
    # judged by what it makes, not by the word in its type.
    assert _checks(report, chain, 2)["goods_list"][0] == "attention"
    assert report["verdict"] == "ATTENTION"
    passed = [c for c in report["checks"] if c["check"] == "goods_list" and c["outcome"] == "pass"]
    assert passed == []


def test_pending_confirmations_need_attention_and_findings_are_still_judged(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    chain = _build(tmp_path, anvil_url, confirmations=12)
    refinery = chain.audit(
        3,
        MADE[3] + 13,
        _finding("F-1", "retention_of_identity_documents", "critical",
                 "passports of 38 migrant workers held by the labour agent"),
    )  # fmt: skip
    chain.hand_over(tmp_path / "audits.json", refinery, *_clean_audits(chain, 4, 2, 1))
    report = chain.verify()
    waiting = [c["reason"] for c in report["checks"] if c["check"] == "anchored"]
    assert waiting and all(c["outcome"] != "fail" for c in report["checks"]
                           if c["check"] == "anchored")  # fmt: skip
    # The library says how long to wait; the command to run after is the CLI's to word.
    assert any(r.endswith("more blocks") for r in waiting)
    # The finding is judged although its anchor is fresh: not "no anchored audit".
    outcome, reason = _checks(report, chain, 3)["forced_labour_findings"]
    assert outcome == "fail" and "F-1" in reason
    assert "no anchored audit" not in str(report["checks"])
    # The person reading verify sees the wait once per anchor, not once per entry.
    cli = Cli(chain.brand_ws.workspace.root, capsys, monkeypatch)
    code, out, _ = cli.run("verify", chain.laptops)
    assert code == 5 and "F-1" in out
    text = " ".join(out.split())
    waits = [line for line in out.splitlines() if "attention anchored: pending" in line]
    assert len(waits) == 2  # the brand's anchor of the lots and the auditor's of its audits
    assert "more blocks; run `labourledger sync` (" in text and "entries)" in text

    # Without a finding, fresh evidence is ATTENTION, and PASSes once the blocks are mined.
    clean = _build(tmp_path / "clean", anvil_url, confirmations=12)
    clean.hand_over(tmp_path / "clean.json", *_clean_audits(clean, 4, 3, 2, 1))
    mine = clean.lots[4]
    fresh = clean.verify(mine)
    assert fresh["verdict"] == "ATTENTION"
    assert {c["check"] for c in fresh["checks"] if c["outcome"] == "attention"} >= {"anchored"}
    clean.brand_ws.chain.w3.provider.make_request(RPCEndpoint("anvil_mine"), [12])
    later = Ledger.open(clean.brand_ws.workspace.root)  # as the next command would
    later.sync()
    settled = later.verify(mine, all_checks=True)
    assert {c["outcome"] for c in settled["checks"] if c["check"] == "anchored"} == {"pass"}


def test_an_imported_anchor_keeps_the_transaction_the_chain_logged(
    electronics: Chain, tmp_path: Path
) -> None:
    """Block and time of an anchor met first in an imported file come from the contract;
    its transaction too, from the chain's log, not from the file."""
    chain = electronics
    [audit] = _clean_audits(chain, 4)
    chain.auditor_ws.anchor(chain.auditor)
    path = chain.auditor_ws.write_entries(tmp_path / "audit.json", [audit], with_proofs=True)
    handed = json.loads(path.read_text())
    anchor = handed["entries"][0]["anchor"]
    logged = anchor["tx_hash"]
    anchor["tx_hash"] = "0x" + "5a" * 32
    path.write_text(json.dumps(handed))
    chain.brand_ws.import_file(path)
    stored = chain.brand_ws.mirror.get_anchor(anchor["root"])
    assert stored is not None and stored["tx_hash"] == logged
