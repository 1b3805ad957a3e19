"""Issue 13 end to end: a hotline's grievance at the demo's knit fabric mill, in trace,
verify, the report and a bundle, and the receipt checked from a buyer's empty workspace."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from chunking import assert_same_in_chunks
from clihelp import Cli
from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger import grievances, receipts
from labourledger.demo import run_demo
from labourledger.errors import InputError
from labourledger.ledger import EntriesRefused, Ledger
from labourledger.report import write_report

pytestmark = pytest.mark.integration

PASSPHRASE = "demo admin passphrase"
REPORT = b"Deductions of 400,000 VND a month for 'dormitory' from pay; caller asked not to be named"


def _month(days_ago: int) -> str:
    return (dt.date.today() - dt.timedelta(days=days_ago)).strftime("%Y-%m")


@pytest.fixture
def story(tmp_path: Path) -> tuple[Ledger, LocalAccount, str, str]:
    """The demo's workspace (its batch PASSes), a hotline holding GRIEVANCE_CHANNEL, and
    the knit fabric mill's id and the batch's."""
    result = run_demo(tmp_path / "demo", admin_passphrase=PASSPHRASE)
    assert result.after["verdict"] == "PASS"
    ledger = Ledger.open(result.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    hotline: LocalAccount = Account.create()
    ledger.chain.fund(hotline.address, 10**18)
    ledger.grant_role(admin, "GRIEVANCE_CHANNEL", hotline.address)
    mill = next(
        s["facility"]["facility_id"]
        for s in result.after["stages"]
        if s["facility"]["name"] == "Saigon Knit Fabrics"
    )
    return ledger, hotline, mill, result.batch


def _verdict(ledger: Ledger, batch: str, mill: str) -> tuple[str, list[str], dict[str, object]]:
    report = ledger.verify(batch, all_checks=True)  # a pass's reason too
    reasons = [
        c["reason"]
        for c in report["checks"]
        if c["check"] == "worker_grievances" and c["facility"] == mill
    ]
    stage = next(s for s in report["stages"] if s["facility"]["facility_id"] == mill)
    return report["verdict"], reasons, stage["grievances"]


def test_a_hotline_grievance_through_verify_trace_and_a_bundle(
    story: tuple[Ledger, LocalAccount, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger, hotline, mill, batch = story
    received = _month(40)  # the month before the fabric was made, or the same one
    recorded = grievances.record(
        ledger, hotline, facility=mill, received_month=received, channel="hotline",
        categories=["withholding_of_wages", "wages"], severity="major", workers="6-20",
        report=REPORT,
    )  # fmt: skip
    grievance = "0x" + recorded.entry.entry_id.hex()
    ledger.anchor(hotline)  # the channel anchors its own entry

    # Indexed by facility on chain, submitted by the channel: no brand can hide it.
    events = ledger.chain.index_events([bytes.fromhex(mill[2:])])
    [event] = [e for e in events if e.entry_id == recorded.entry.entry_id]
    assert event.submitter == hotline.address
    verdict, reasons, counts = _verdict(ledger, batch, mill)
    assert verdict == "ATTENTION"
    assert reasons == [
        f"Saigon Knit Fabrics: 1 unresolved worker grievance, received in {received}"
    ]
    assert counts["by_status"] == {"acknowledged": 1} and counts["total"] == 1
    node = next(n for n in ledger.trace(batch)["nodes"] if n.get("facility") == mill)
    assert node["grievances"]["by_category"] == {"withholding_of_wages": 1, "wages": 1}
    # A facility without any: zero counts, in the same shape.
    quiet = [n for n in ledger.trace(batch)["nodes"] if "grievances" in n and n["facility"] != mill]
    zero = {"total": 0, "by_status": {}, "by_category": {}, "received_from": None,
            "received_to": None, "name": None, "summary": "no worker grievances"}  # fmt: skip
    assert quiet and all(n["grievances"] == {"facility": n["facility"], **zero} for n in quiet)
    shown = " ".join(Cli(ledger.workspace.root, capsys, monkeypatch).ok("trace", batch).split())
    assert "1 worker grievance (acknowledged 1; withholding_of_wages 1, wages 1)" in shown
    assert recorded.receipt not in shown

    update = grievances.update(ledger, hotline, grievance, status="substantiated")
    ledger.anchor(hotline)
    [event] = ledger.chain.index_events([recorded.entry.entry_id])
    assert event.entry_id == update.entry_id
    verdict, reasons, counts = _verdict(ledger, batch, mill)
    assert verdict == "ATTENTION" and "substantiated major worker grievance" in reasons[0]
    assert counts["by_status"] == {"substantiated": 1}

    # Remediated now: goods made before the remediation stay marked by it.
    grievances.update(ledger, hotline, grievance, status="remediated")
    ledger.anchor(hotline)
    verdict, reasons, counts = _verdict(ledger, batch, mill)
    assert verdict == "ATTENTION" and "not remediated before" in reasons[0]
    assert counts["by_status"] == {"remediated": 1}

    page = write_report(ledger.verify(batch), tmp_path / "report.html").read_text()
    assert "Worker grievances from accredited channels (counts only)" in page
    assert "<dt>by status</dt><dd>remediated 1</dd>" in page
    assert "<dd>withholding of wages 1, wages 1</dd>" in page

    bundle = ledger.export_bundle(batch)
    kinds = [e.kind for e in bundle.entries]
    assert kinds.count("grievance") == 1 and kinds.count("grievance_update") == 2
    text = bundle.model_dump_json()
    for secret in (recorded.receipt, recorded.receipt.replace("-", ""), "400,000", "dormitory"):
        assert secret not in text and secret not in page
    buyer = Ledger.from_bundle(bundle, ledger.chain)
    assert buyer.verify(batch)["verdict"] == "ATTENTION"
    checked = receipts.check_receipt(buyer, recorded.receipt)
    assert checked.proof_verified and checked.received_month == received
    assert checked.channel_accredited is True  # the hotline held GRIEVANCE_CHANNEL then
    assert [h["status"] for h in checked.history] == ["acknowledged", "substantiated", "remediated"]


def test_a_critical_grievance_fails_and_one_without_an_ilo_indicator_only_counts(
    story: tuple[Ledger, LocalAccount, str, str],
) -> None:
    ledger, hotline, mill, batch = story
    for categories, severity in ((["harassment"], "critical"), (["debt_bondage"], "critical")):
        recorded = grievances.record(
            ledger, hotline, facility=mill, received_month=_month(60), channel="union",
            categories=categories, severity=severity, workers="21+", report=REPORT,
        )  # fmt: skip
        grievances.update(
            ledger, hotline, "0x" + recorded.entry.entry_id.hex(), status="substantiated"
        )
        ledger.anchor(hotline)
        verdict, reasons, counts = _verdict(ledger, batch, mill)
    assert verdict == "FAIL" and "(debt_bondage)" in reasons[0] and "harassment" not in reasons[0]
    assert counts["by_category"] == {"debt_bondage": 1, "harassment": 1}


def test_a_grievance_anchored_without_the_channel_role_does_not_count(
    story: tuple[Ledger, LocalAccount, str, str],
) -> None:
    ledger, hotline, mill, batch = story
    impostor: LocalAccount = Account.create()
    grievances.record(
        ledger, impostor, facility=mill, received_month=_month(60), channel="app",
        categories=["debt_bondage"], severity="critical", workers="1", report=REPORT,
    )  # fmt: skip
    ledger.anchor(hotline)
    report = ledger.verify(batch)
    roles = [c for c in report["checks"] if c["check"] == "issuer_role" and c["outcome"] == "fail"]
    assert len(roles) == 1 and "GRIEVANCE_CHANNEL" in roles[0]["reason"]
    stage = next(s for s in report["stages"] if s["facility"]["facility_id"] == mill)
    assert stage["grievances"]["total"] == 0


def test_only_the_channel_or_an_auditor_may_update_a_grievance(
    story: tuple[Ledger, LocalAccount, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, hotline, mill, batch = story
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    rival, auditor = Account.create(), Account.create()
    for account, role in ((rival, "GRIEVANCE_CHANNEL"), (auditor, "AUDITOR")):
        ledger.chain.fund(account.address, 10**18)
        ledger.grant_role(admin, role, account.address)
    recorded = grievances.record(
        ledger, hotline, facility=mill, received_month=_month(60), channel="hotline",
        categories=["debt_bondage"], severity="critical", workers="2-5", report=REPORT,
    )  # fmt: skip
    grievance = "0x" + recorded.entry.entry_id.hex()
    ledger.anchor(hotline)
    with pytest.raises(InputError, match="only the channel that recorded it"):
        grievances.update(ledger, rival, grievance, status="unsubstantiated")
    body = {"grievance": grievance, "status": "unsubstantiated", "month": _month(0)}
    forged = ledger.sign("grievance_update", body, rival)
    ledger.write_entries(tmp_path / "rival.json", [forged])
    with pytest.raises(EntriesRefused, match="only the channel that recorded it"):
        ledger.import_file(tmp_path / "rival.json")

    # Stored by other means and anchored, it is named and changes nothing.
    ledger.store([forged])
    ledger.anchor(hotline)
    report = ledger.verify(batch)
    named = [c for c in report["checks"] if c["entry_id"] == "0x" + forged.entry_id.hex()]
    assert any(c["outcome"] == "fail" and "neither the channel" in c["reason"] for c in named)
    stage = next(s for s in report["stages"] if s["facility"]["facility_id"] == mill)
    assert stage["grievances"]["by_status"] == {"acknowledged": 1}

    # An auditor who investigated may say what was found.
    found = ledger.sign("grievance_update", body | {"status": "substantiated"}, auditor)
    ledger.write_entries(tmp_path / "auditor.json", [found])
    assert ledger.import_file(tmp_path / "auditor.json").new == 1
    ledger.anchor(hotline)
    _, reasons, counts = _verdict(ledger, batch, mill)
    assert counts["by_status"] == {"substantiated": 1} and "(debt_bondage)" in reasons[0]
    # Each update judged with its grievance in another chunk, the rival's still named.
    assert_same_in_chunks(ledger, batch, monkeypatch)


def test_a_brand_cannot_revoke_a_channels_grievance(
    story: tuple[Ledger, LocalAccount, str, str], tmp_path: Path
) -> None:
    ledger, hotline, mill, batch = story
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    brand: LocalAccount = Account.create()
    ledger.chain.fund(brand.address, 10**18)
    ledger.grant_role(admin, "BRAND", brand.address)
    recorded = grievances.record(
        ledger, hotline, facility=mill, received_month=_month(60), channel="hotline",
        categories=["debt_bondage"], severity="critical", workers="6-20", report=REPORT,
    )  # fmt: skip
    grievances.update(ledger, hotline, "0x" + recorded.entry.entry_id.hex(), status="substantiated")
    ledger.anchor(hotline)
    body = {"target": "0x" + recorded.entry.entry_id.hex(), "reason": "the supplier disputes it"}
    by_brand = ledger.sign("revocation", body, brand)
    ledger.write_entries(tmp_path / "revocation.json", [by_brand])
    with pytest.raises(EntriesRefused, match=r"only the (target's )?issuer"):
        ledger.import_file(tmp_path / "revocation.json")
    with pytest.raises(InputError, match="may not revoke"):
        ledger.record("revocation", body, brand)
    # Stored by other means and anchored, the brand's revocation is named and ignored.
    ledger.store([by_brand])
    ledger.anchor(hotline)
    report = ledger.verify(batch)
    revocation = "0x" + by_brand.entry_id.hex()
    [ignored] = [c for c in report["ignored"] if c["entry_id"] == revocation]
    assert "may not revoke" in ignored["reason"]
    verdict, reasons, counts = _verdict(ledger, batch, mill)
    assert verdict == "FAIL" and "(debt_bondage)" in reasons[0]
    assert counts["by_status"] == {"substantiated": 1}
    # The channel itself, or the admin, may withdraw it.
    ledger.write_entries(tmp_path / "by-admin.json", [ledger.sign("revocation", body, admin)])
    assert ledger.import_file(tmp_path / "by-admin.json").new == 1
    ledger.anchor(hotline)
    _, reasons, counts = _verdict(ledger, batch, mill)
    assert counts["total"] == 0 and "no substantiated" in reasons[0]


def test_grievances_on_sqlite_and_postgresql_mirrors_hold_no_secret(
    tmp_path: Path, mirror_url: str
) -> None:
    from sqlalchemy import text

    ledger = Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE, db=mirror_url)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    hotline: LocalAccount = Account.create()
    ledger.chain.fund(hotline.address, 10**18)
    ledger.grant_role(admin, "GRIEVANCE_CHANNEL", hotline.address)
    facility = "0x" + "ab" * 32
    recorded = [
        grievances.record(
            ledger,
            hotline,
            facility=facility,
            received_month=month,
            channel="sms",
            categories=["excessive_overtime"],
            severity="major",
            workers="21+",
            report=REPORT,
        )
        for month in ("2026-09", "2026-11")
    ]
    ledger.anchor(hotline)
    [counts] = grievances.counts_of(ledger, [facility]).values()
    assert (counts.total, counts.received_from, counts.received_to) == (2, "2026-09", "2026-11")
    checked = receipts.check_receipt(ledger, recorded[1].receipt)
    assert checked.received_month == "2026-11" and checked.proof_verified
    with ledger.mirror.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM entries")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert "excessive_overtime" in stored  # the query sees the bodies whole
    for r in recorded:
        for secret in (r.receipt, r.receipt.replace("-", ""), "400,000", "dormitory"):
            assert secret not in stored


def test_a_grievance_the_brand_leaves_out_of_a_bundle_fails_verify_for_omission(
    story: tuple[Ledger, LocalAccount, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger, hotline, mill, batch = story
    recorded = grievances.record(
        ledger, hotline, facility=mill, received_month=_month(60), channel="hotline",
        categories=["retention_of_identity_documents"], severity="critical", workers="21+",
        report=REPORT,
    )  # fmt: skip
    ledger.anchor(hotline)
    grievance = "0x" + recorded.entry.entry_id.hex()
    bundle = json.loads(ledger.export_bundle(batch).model_dump_json())
    assert grievance in [e["entry_id"] for e in bundle["entries"]]
    bundle["entries"] = [e for e in bundle["entries"] if e["entry_id"] != grievance]
    (tmp_path / "trimmed.json").write_text(json.dumps(bundle))
    cli = Cli(ledger.workspace.root, capsys, monkeypatch)
    code, out, err = cli.run("verify", "--bundle", str(tmp_path / "trimmed.json"), "--json")
    assert code == 5, err
    report = json.loads(out)
    omitted = [c for c in report["checks"] if c["outcome"] == "fail" and grievance in c["reason"]]
    assert omitted and omitted[0]["facility"] == mill
