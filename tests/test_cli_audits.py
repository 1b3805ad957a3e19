"""Issue 4 acceptance: auditors and suppliers sign in their own workspaces, the brand imports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from clihelp import Cli
from web3.types import RPCEndpoint

from labourledger.chain import open_rpc

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[1]
MILL = "IN2024007SPNC3S"  # Coimbatore Spinning Co, tier 3, in examples/facilities.csv


@pytest.fixture
def parties(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
) -> dict[str, Cli]:
    """A brand (and admin) with the example facilities anchored; an auditor, a second key
    without a role and a supplier, each in a workspace of their own on the same chain."""
    brand = Cli(tmp_path / "brand", capsys, monkeypatch)
    brand.ok("init", "--chain", anvil_url)
    brand.ok("keys", "new", "admin")
    brand.ok("keys", "fund", "admin")
    contract = brand.json("contracts", "deploy", "--key", "admin")["contract"]
    brand.ok("keys", "new", "brand")
    brand.ok("keys", "fund", "brand")
    brand.ok("roles", "grant", "BRAND", "brand", "--key", "admin")
    brand.ok("supplier", "import", str(REPO / "examples" / "facilities.csv"), "--key", "brand")
    brand.ok("anchor", "--key", "brand")

    others = {}
    for name in ("auditor", "supplier"):
        cli = Cli(tmp_path / name, capsys, monkeypatch)
        cli.ok("init", "--chain", anvil_url, "--contract", contract)
        cli.ok("keys", "new", name)
        cli.ok("keys", "new", "rogue")
        others[name] = cli
    auditor = others["auditor"].json("keys", "list")
    address = {k["name"]: k["address"] for k in auditor}
    brand.ok("roles", "grant", "AUDITOR", address["auditor"], "--key", "admin")
    supplier = {k["name"]: k["address"] for k in others["supplier"].json("keys", "list")}
    brand.ok("roles", "grant", "SUPPLIER", supplier["supplier"], "--key", "brand")
    return {"brand": brand, **others}


def _fill_audit(path: Path) -> None:
    template = json.loads(path.read_text())
    assert template["facility_name"] == "Coimbatore Spinning Co"
    template["body"].update(
        standard="SMETA 4-pillar",
        audit_type="periodic",
        notice="unannounced",
        start_date="2026-03-10",
        end_date="2026-03-12",
        workers_interviewed=38,
        result="conditional",
        valid_until="2027-03-12",
        findings=[
            {
                "id": "F-1",
                "clause": "ETI 1.1",
                "ilo_indicators": ["debt_bondage", "retention_of_identity_documents"],
                "severity": "critical",
                "description": "Recruitment-fee debts; passports held by the hostel warden",
                "corrective_action": {
                    "action": "Repay fees, return passports",
                    "due_date": "2026-05-01",
                },
            },
            {
                "id": "F-2",
                "ilo_indicators": [],
                "severity": "minor",
                "description": "Fire exit partly blocked",
            },
        ],
    )
    path.write_text(json.dumps(template))


def _sign_audit(auditor: Cli, tmp_path: Path, key: str, name: str) -> Path:
    template = tmp_path / f"{name}-template.json"
    auditor.ok("audit", "new", MILL, "--name", "Coimbatore Spinning Co", "-o", str(template))
    _fill_audit(template)
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.7 SMETA report")
    (tmp_path / "passports.jpg").write_bytes(b"\xff\xd8 photo of the hostel safe")
    signed = tmp_path / f"{name}.json"
    auditor.ok(
        "audit", "sign", str(template), "--key", key, "--issued-at", "2026-03-12",
        "--evidence", str(tmp_path / "report.pdf"),
        "--evidence", f"F-1={tmp_path / 'passports.jpg'}",
        "-o", str(signed), *(["--record"] if key == "auditor" else []),
    )  # fmt: skip
    return signed


def _entry_id(path: Path) -> str:
    entry_id: str = json.loads(path.read_text())["entries"][0]["entry_id"]
    return entry_id


def test_audit_follow_up_and_refusals(parties: dict[str, Cli], tmp_path: Path) -> None:
    brand, auditor = parties["brand"], parties["auditor"]
    signed = _sign_audit(auditor, tmp_path, "auditor", "audit")
    audit_id = _entry_id(signed)
    evidence = json.loads(signed.read_text())["entries"][0]["body"]
    assert len(evidence["evidence"]) == 1 and len(evidence["findings"][0]["evidence"]) == 1
    stored = auditor.workspace / "evidence" / evidence["evidence"][0]["hash"][2:]
    assert stored.read_bytes() == b"%PDF-1.7 SMETA report"

    first = brand.json("import", str(signed))
    assert first[0]["new"] == 1
    again = brand.json("import", str(signed))
    assert (again[0]["new"], again[0]["already_present"]) == (0, 1)
    assert "already here" in brand.ok("import", str(signed))
    brand.ok("anchor", "--key", "brand")

    # Months later (by issuedAt: the audit was signed on 2026-03-12), the follow-up.
    follow_up = tmp_path / "follow-up.json"
    auditor.ok(
        "finding", "update", audit_id, "F-1", "--status", "closed", "--method", "onsite",
        "--note", "Fees repaid, passports returned", "--key", "auditor", "-o", str(follow_up),
    )  # fmt: skip
    brand.ok("import", str(follow_up))
    # Said again to a workspace that holds it, with nothing new, it would read as a second
    # verification: refused.
    minor = ("finding", "update", audit_id, "F-2", "--status", "closed", "--on", "2026-06-01")
    auditor.ok(*minor, "--key", "auditor", "--record")
    code, _, err = auditor.run(*minor, "--key", "auditor", "--record")
    assert code == 2 and "F-2': update 0x" in err and "says this already" in err
    auditor.ok(*minor, "--method", "desktop", "--key", "auditor", "--record")
    pending_view = brand.json("audit", "show", audit_id)
    critical = pending_view["findings"][0]
    assert critical["status"] == "open"  # the update is not anchored yet
    assert [h["state"] for h in critical["history"]] == ["anchored", "pending"]
    brand.ok("anchor", "--key", "brand")

    view = brand.json("audit", "show", audit_id)
    critical, minor = view["findings"]
    assert (critical["id"], critical["status"], minor["status"]) == ("F-1", "closed", "open")
    opened, closed = critical["history"]
    assert (opened["status"], opened["by"]) == ("open", "audit")
    assert (closed["status"], closed["verification_method"]) == ("closed", "onsite")
    assert closed["issued_at"] - opened["issued_at"] > 60 * 86_400
    assert closed["anchor"]["block_number"] > opened["anchor"]["block_number"]
    assert closed["anchor"]["timestamp"] >= opened["anchor"]["timestamp"]
    human = brand.ok("audit", "show", audit_id)
    assert "closed" in human and "onsite" in human and "debt_bondage" in human

    assert len(brand.json("audit", "list", "--severity", "critical", "--status", "closed")) == 1
    assert brand.json("audit", "list", "--severity", "critical", "--status", "open") == []
    assert len(brand.json("audit", "list", "--indicator", "debt_bondage", "--facility", MILL)) == 1
    assert brand.json("audit", "list", "--until", "2026-01-01") == []
    assert len(brand.json("audit", "list", "--since", "2026-01-01")) == 1
    # An audit's id where a facility's belongs matched nothing: refused, naming what it is.
    code, _, err = brand.run("audit", "list", "--facility", audit_id)
    assert code == 2 and f"facility {audit_id}: the id of an audit entry here" in err
    code, _, err = brand.run("audit", "list", "--since", "2026-1-1")  # not a match for none
    assert code == 2 and "since: expected a date such as 2026-03-01, got '2026-1-1'" in err
    assert [a["entry_id"] for a in brand.json("supplier", "show", MILL)["audits"]] == [audit_id]

    pending = brand.json("status")["pending"]
    # An audit signed by a key without the AUDITOR role is refused, naming the reason.
    rogue = _sign_audit(auditor, tmp_path, "rogue", "rogue-audit")
    code, _, err = brand.run("import", str(rogue))
    assert code == 2 and "AUDITOR role" in err and "nothing imported" in err
    # One changed character in a finding's description.
    tampered = json.loads(signed.read_text())
    finding = tampered["entries"][0]["body"]["findings"][1]
    finding["description"] = finding["description"].replace("Fire", "Fine")
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    code, _, err = brand.run("import", str(tmp_path / "tampered.json"))
    assert code == 2 and "content hash" in err
    # A file signed for another chain.
    elsewhere = json.loads(signed.read_text()) | {"chain_id": 1}
    (tmp_path / "elsewhere.json").write_text(json.dumps(elsewhere))
    code, _, err = brand.run("import", str(tmp_path / "elsewhere.json"))
    assert code == 2 and "signed for chain 1" in err
    assert brand.json("status")["pending"] == pending


def _facility_id(brand: Cli) -> str:
    return str(brand.json("supplier", "show", MILL)["facility_id"])


def _attest(supplier: Cli, tmp_path: Path, claim: str) -> Path:
    path = tmp_path / f"{claim}.json"
    supplier.ok(
        "attest", MILL, "--claim", claim, "--from", "2026-01-01", "--until", "2099-12-31",
        "--key", "supplier", "--record", "-o", str(path),
    )  # fmt: skip
    return path


def test_supplier_declarations_and_revocation(parties: dict[str, Cli], tmp_path: Path) -> None:
    brand, supplier = parties["brand"], parties["supplier"]
    fees = _attest(supplier, tmp_path, "no_recruitment_fees")
    movement = _attest(supplier, tmp_path, "freedom_of_movement")
    [imported] = brand.json("import", str(fees))
    key = next(k["address"] for k in supplier.json("keys", "list") if k["name"] == "supplier")
    [warning] = imported["warnings"]  # stored, but verify fails it until the key is named
    assert f"{key} is not an operator of facility" in warning
    assert f"supplier operators {_facility_id(brand)} --add {key}" in warning
    brand.ok("supplier", "operators", MILL, "--add", key, "--key", "brand")
    [imported] = brand.json("import", str(movement))
    assert imported["new"] == 1 and imported["warnings"] == []
    brand.ok("anchor", "--key", "brand")

    revocation = tmp_path / "revoke.json"
    code, _, err = supplier.run(
        "revoke", _entry_id(fees), "--reason", "declared for the wrong site",
        "--key", "supplier", "-o", str(revocation),
    )  # fmt: skip
    assert code == 0 and "to the brand, who runs `labourledger import" in " ".join(err.split())
    brand.ok("import", str(revocation))
    brand.ok("anchor", "--key", "brand")

    view = brand.json("supplier", "show", MILL)
    states: dict[str, Any] = {a["claim"]: a for a in view["attestations"]}
    assert states["no_recruitment_fees"]["revoked_by"] == [_entry_id(revocation)]
    assert states["no_recruitment_fees"]["in_force"] is False
    assert states["freedom_of_movement"]["in_force"] is True
    assert brand.json("entry", "show", _entry_id(fees))["revoked_by"] == [_entry_id(revocation)]
    shown = brand.ok("entry", "show", _entry_id(fees))  # rich cuts ids to the terminal's width
    assert re.search(rf"revoked by +{_entry_id(revocation)[:40]}", shown)
    assert "revoked" in brand.ok("supplier", "show", MILL)

    # A certificate needs an AUDITOR key: the supplier's is refused, the auditor's accepted.
    certificate = [
        "attest", MILL, "--claim", "certificate", "--standard", "SA8000",
        "--certificate-number", "SA-2026-114", "--from", "2026-01-01", "--until", "2028-12-31",
    ]  # fmt: skip
    supplier.ok(*certificate, "--key", "supplier", "-o", str(tmp_path / "self-cert.json"))
    code, _, err = brand.run("import", str(tmp_path / "self-cert.json"))
    assert code == 2 and "AUDITOR role" in err
    parties["auditor"].ok(*certificate, "--key", "auditor", "-o", str(tmp_path / "cert.json"))
    assert brand.json("import", str(tmp_path / "cert.json"))[0]["new"] == 1

    # The brand withdraws its facility registrations (the first, and the one that named the
    # supplier); listings show the facility withdrawn once neither stands.
    entries = brand.json("supplier", "show", MILL)["entries"]
    facility_entry, amended = [e["entry_id"] for e in entries if e["kind"] == "facility"]
    # A brand's own signed file is not sent to a brand: it imports it itself.
    draft = tmp_path / "draft.json"
    code, _, err = brand.run("revoke", facility_entry, "--reason", "x", "--key", "brand",
                             "-o", str(draft))  # fmt: skip
    assert code == 0 and f"store it here with `labourledger import {draft}`" in err, err
    assert "to the brand" not in err
    brand.ok("revoke", facility_entry, "--reason", "duplicate", "--key", "brand", "--record")
    [listed] = [f for f in brand.json("supplier", "list") if f["os_id"] == MILL]
    assert listed["entry_id"] == amended and listed["revoked_by"] == []
    brand.ok("revoke", amended, "--reason", "closed", "--key", "brand", "--record")
    [listed] = [f for f in brand.json("supplier", "list") if f["os_id"] == MILL]
    assert len(listed["revoked_by"]) == 1
    # Withdrawing it again, or withdrawing the withdrawal, would change nothing: refused.
    code, _, err = brand.run("revoke", facility_entry, "--reason", "x", "--key", "brand")
    assert code == 2 and f"{facility_entry} is revoked already, by 0x" in err
    [withdrawal] = listed["revoked_by"]
    code, _, err = brand.run("revoke", withdrawal, "--reason", "x", "--key", "brand")
    assert code == 2 and "is a revocation, which stands once made" in err
    assert "(revoked)" in brand.ok("supplier", "list", "--tier", "3")

    # Only the issuer or an admin may revoke: the brand's own key may not revoke this one.
    code, _, err = brand.run("revoke", _entry_id(movement), "--reason", "x", "--key", "brand")
    assert code == 2 and "only the issuer" in err


def test_schema_prints_a_kinds_json_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = Cli(tmp_path / "none", capsys, monkeypatch)  # needs no workspace
    schema = json.loads(cli.ok("schema", "audit"))
    assert "findings" in schema["properties"]
    ref = schema["properties"]["notice"]["$ref"].rsplit("/", 1)[-1]
    notice = schema["$defs"][ref]["enum"]
    assert set(notice) == {"announced", "semi_announced", "unannounced"}
    code, _, err = cli.run("schema", "invoice")
    assert code == 2 and "kind" in err


def test_bundle_verifies_against_a_json_rpc_chain_without_any_workspace(
    parties: dict[str, Cli],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    anvil_url: str,
) -> None:
    brand = parties["brand"]
    farm = "IN2024005FARM5E"  # tier 4 in examples/facilities.csv
    brand.ok("product", "add", "--sku", "COT", "--name", "Seed cotton", "--brand", "Acme")
    brand.ok("batch", "add", "--product", "COT", "--lot", "C-1", "--quantity", "5000",
             "--unit", "kg", "--produced-at", "2026-10-01", "--facility", farm)  # fmt: skip
    brand.ok("anchor", "--key", "brand")
    open_rpc(anvil_url).w3.provider.make_request(RPCEndpoint("anvil_mine"), [12])
    bundle = tmp_path / "bundle.json"
    brand.ok("export", "C-1", "-o", str(bundle))

    buyer = Cli(tmp_path / "no-workspace-here", capsys, monkeypatch)
    code, out, _ = buyer.run("verify", "--bundle", str(bundle), "--chain", anvil_url, "--json",
                              "--all-checks")  # fmt: skip
    report = json.loads(out)
    assert code == 4 and report["chain"]["label"] == anvil_url
    integrity = {
        "content_hash",
        "entry_id",
        "signature",
        "anchored",
        "issued_before_anchor",
        "issuer_role",
    }
    checked = [c for c in report["checks"] if c["check"] in integrity]
    assert len(checked) == 6 * 3  # product, batch, facility registration
    assert all(c["outcome"] == "pass" for c in checked)
    # Nothing fails; the farm has no audit yet, which by default needs attention.
    assert not [c for c in report["checks"] if c["outcome"] == "fail"]
    [unaudited] = [c for c in report["checks"] if c["check"] == "audit_valid"]
    assert unaudited["outcome"] == "attention" and "no anchored audit" in unaudited["reason"]
    assert not (tmp_path / "no-workspace-here").exists()
