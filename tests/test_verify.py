"""Issue 5: a buyer verifies a batch end to end; bundles; the policy's knobs; the demo."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from chunking import assert_same_in_chunks
from clihelp import FAST_ENV, PASSPHRASE, Cli
from eth_account import Account
from fresh import assert_prints_ok

from labourledger.bundle import read_bundle
from labourledger.bundling import export_bundle, verify_bundle
from labourledger.demo import DemoResult, run_demo
from labourledger.errors import InputError
from labourledger.ledger import Ledger
from labourledger.mirror import anchors
from labourledger.mirror.anchors import AnchorRecords
from labourledger.schemas import published
from labourledger.verify import evidence, relied
from labourledger.verify.goods import load_goods_list
from labourledger.verify.policy import Policy
from labourledger.vocabulary import SEVERITIES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoResult]:
    """The demo, run once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)
        yield run_demo(tmp_path_factory.mktemp("demo") / "demo", admin_passphrase=PASSPHRASE)


@pytest.fixture
def demo(built_demo: DemoResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoResult:
    """A copy of the demo's workspace (chain, mirror, files) that a test may change."""
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    root = tmp_path / "demo"
    shutil.copytree(built_demo.workspace, root)  # the copy opens its own mirror: a relative path
    return replace(
        built_demo,
        workspace=root,
        report=root / built_demo.report.relative_to(built_demo.workspace),
        bundle=root / built_demo.bundle.relative_to(built_demo.workspace),
    )


def _failing(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["check"], c["outcome"]) for c in report["checks"] if c["outcome"] != "pass"]


def test_demo_fails_on_the_open_finding_then_passes(demo: DemoResult) -> None:
    assert demo.before["verdict"] == "FAIL"
    assert _failing(demo.before) == [("forced_labour_findings", "fail")]
    [reason] = [c["reason"] for c in demo.before["checks"] if c["outcome"] == "fail"]
    assert "debt bondage" in reason and "Coimbatore Spinning Mills" in reason
    assert "still open" in reason
    # The closure is anchored after the first batch's yarn was spun: those goods stay tainted,
    # and the reason names the production date and the closure.
    assert demo.still["verdict"] == "FAIL"
    assert _failing(demo.still) == [("forced_labour_findings", "fail")]
    [still] = [c["reason"] for c in demo.still["checks"] if c["outcome"] == "fail"]
    made = next(s for s in demo.still["stages"] if s["tier"] == 3)["batches"][0]["produced_at"]
    assert f"made {made} while F-1" in still and "closed " in still
    assert demo.after["verdict"] == "PASS" and demo.bundle_verdict == "PASS"
    assert demo.after["chain"]["embedded"] is True
    tiers = [s["tier"] for s in demo.after["stages"]]
    assert tiers == [4, 3, 2, 1]
    assert {s["facility"]["country"] for s in demo.after["stages"]} == {"IN", "VN", "BD"}
    documents = [d["type"] for s in demo.after["stages"] for d in s["documents"]]
    assert sorted(documents) == ["bill_of_lading", "invoice", "purchase_order"]
    html = demo.report.read_text()
    assert "Verdict: PASS" in html and "local development chain" in html
    assert "Coimbatore Spinning Mills" in html and "<svg" in html


def _cli(demo: DemoResult, capsys: pytest.CaptureFixture[str], mp: pytest.MonkeyPatch) -> Cli:
    return Cli(demo.workspace, capsys, mp)


def test_cli_verify_exit_codes_and_policy_flags(
    demo: DemoResult, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = _cli(demo, capsys, monkeypatch)
    code, out, _ = cli.run("verify", "TEE-26-0519")
    assert code == 0 and "PASS" in out
    code, out, _ = cli.run("verify", "TEE-26-0519", "--audit-months", "1", "--json")
    assert code == 5  # the spinning mill's DOL-listed yarn now has no unannounced audit
    report = json.loads(out)
    assert _failing(report).count(("audit_valid", "attention")) == 4
    code, out, _ = cli.run(
        "verify", "TEE-26-0519", "--audit-months", "1", "--missing-audit", "fail", "--json"
    )
    assert _failing(json.loads(out)).count(("audit_valid", "fail")) == 4
    code, out, _ = cli.run("verify", "TEE-26-0519", "--high-risk-notice", "announced", "--json")
    assert code == 5
    [reason] = [c["reason"] for c in json.loads(out)["checks"] if c["outcome"] == "fail"]
    assert "Thread/Yarn from IN is on the DOL forced labour list" in reason
    code, _, err = cli.run("verify", "TEE-26-0519", "--fail-severity", "unknown")
    assert code == 2 and "--fail-severity" in err
    # Alone, it would let the open critical finding of TEE-26-0425 pass: refused instead.
    code, _, err = cli.run("verify", "TEE-26-0425", "--fail-severity", "minor")
    assert code == 2 and "--fail-severity: minor findings count but worse ones" in err
    tree = cli.ok("trace", "TEE-26-0519")
    assert "tier 4 lot COT-26-014" in tree and "Coimbatore Spinning Mills" in tree


def test_policy_must_not_be_empty() -> None:
    with pytest.raises(InputError, match="empty"):
        Policy(fail_severities=())
    with pytest.raises(InputError, match="both fail and need attention"):
        Policy(attention_severities=("critical",))
    # A worse finding never counts for less than a milder one: `--fail-severity minor` alone
    # would otherwise let an open critical finding pass.
    with pytest.raises(
        InputError, match=r"fail_severities: minor .* \(zero_tolerance, critical, major\)"
    ):
        Policy(fail_severities=("minor",))
    with pytest.raises(InputError, match=r"attention_severities: minor .* \(major\)"):
        Policy(fail_severities=("zero_tolerance", "critical"), attention_severities=("minor",))
    with pytest.raises(InputError, match=r"fail_severities: critical .* \(zero_tolerance\)"):
        Policy(fail_severities=("critical", "major"), attention_severities=("zero_tolerance",))
    assert Policy(fail_severities=SEVERITIES[:4], attention_severities=("observation",))
    assert Policy(fail_severities=("zero_tolerance",), attention_severities=())


def test_bundle_verifies_in_an_empty_workspace_and_tampering_fails(
    demo: DemoResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = _cli(demo, capsys, monkeypatch)
    bundle = json.loads(demo.bundle.read_text())
    kinds = {e["kind"] for e in bundle["entries"]}
    assert {"facility", "audit", "finding_update", "transformation", "batch"} <= kinds
    assert all(e["salt"] and e["signature"] and e["proof"] for e in bundle["entries"])
    code, _, _ = cli.run("verify", "--bundle", str(demo.bundle))
    assert code == 0
    # A batch named beside a bundle is not silently ignored, nor a chain without one.
    code, _, err = cli.run("verify", "NO-SUCH-LOT", "--bundle", str(demo.bundle))
    assert code == 2 and "not both" in err
    code, _, err = cli.run("verify", "NO-SUCH-LOT", "--chain", "http://127.0.0.1:1")
    assert code == 2 and "--chain: only with --bundle" in err

    audit = next(i for i, e in enumerate(bundle["entries"]) if e["kind"] == "audit")

    def flip(value: str) -> str:
        return value[:-1] + ("0" if value[-1] != "0" else "1")

    tamperings = {
        "body": ("content_hash", lambda e: e["body"].update(workers_interviewed=26)),
        "salt": ("content_hash", lambda e: e.update(salt=flip(e["salt"]))),
        "signature": ("signature", lambda e: e.update(signature=flip(e["signature"][:-2]) + "1b")),
        "proof": (
            "anchored",
            lambda e: e["proof"]["path"].__setitem__(0, flip(e["proof"]["path"][0])),
        ),
    }
    for what, (check, change) in tamperings.items():
        copy = json.loads(demo.bundle.read_text())
        change(copy["entries"][audit])
        path = tmp_path / f"tampered-{what}.json"
        path.write_text(json.dumps(copy))
        code, out, _ = cli.run("verify", "--bundle", str(path), "--json")
        assert code == 5, what
        failed = {
            (c["check"], c["entry_id"]) for c in json.loads(out)["checks"] if c["outcome"] == "fail"
        }
        assert (check, bundle["entries"][audit]["entry_id"]) in failed, (what, failed)


def test_issuer_must_hold_the_role_at_the_anchor_block_and_pending_fails(demo: DemoResult) -> None:
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    auditor = Account.create()
    ledger.chain.fund(auditor.address, 10**18)
    ledger.grant_role(admin, "AUDITOR", auditor.address)
    farm = next(s for s in demo.after["stages"] if s["tier"] == 4)["facility"]["facility_id"]
    certificate = {
        "facility": farm,
        "claim": "certificate",
        "standard": "SA8000",
        "certificate_number": "SA-9",
        "valid_from": "2000-01-01",
        "valid_until": "2099-01-01",
    }
    ledger.record("attestation", certificate, auditor)  # signed while accredited
    pending = ledger.verify(demo.batch)
    assert ("anchored", "fail") in _failing(pending)  # never verified while pending

    ledger.revoke_role(admin, "AUDITOR", auditor.address)  # accreditation withdrawn
    brand_key = Account.create()
    ledger.chain.fund(brand_key.address, 10**18)
    ledger.grant_role(admin, "BRAND", brand_key.address)
    ledger.anchor(brand_key)
    report = ledger.verify(demo.batch)
    assert report["verdict"] == "FAIL"
    [bad] = [c for c in report["checks"] if c["check"] == "issuer_role" and c["outcome"] == "fail"]
    assert "held no AUDITOR role" in bad["reason"]


def test_a_supplier_signs_only_for_facilities_that_name_its_key(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    brand, supplier = Account.create(), Account.create()
    ledger.chain.fund(brand.address, 10**18)
    ledger.grant_role(admin, "BRAND", brand.address)
    ledger.grant_role(brand, "SUPPLIER", supplier.address)
    stages = {s["tier"]: s for s in demo.after["stages"]}
    garment = stages[1]["facility"]["facility_id"]
    cotton = stages[4]["batches"][0]["batch_id"]
    declaration = {
        "facility": garment,
        "claim": "freedom_of_movement",
        "valid_from": "2000-01-01",
        "valid_until": "2099-01-01",
    }
    # Dated as the lot it makes was produced, so its lineage is in step with its batches.
    [finished] = [b for b in stages[1]["batches"] if b["batch_id"] == demo.batch]
    day = finished["produced_at"]
    made = {"inputs": [cotton], "output": demo.batch, "facility": garment, "date": day}
    signed = {
        "0x" + ledger.record("attestation", declaration, supplier).entry_id.hex(),
        "0x" + ledger.record("transformation", made, supplier).entry_id.hex(),
    }

    def operator_checks() -> dict[str, str]:
        ledger.anchor(brand)
        report = ledger.verify(demo.batch, all_checks=True)
        return {
            c["entry_id"]: c["outcome"]
            for c in report["checks"]
            if c["check"] == "issuer_operates_facility" and c["entry_id"] in signed
        }

    # The demo's brand named only the spinning mill's key; transformations a brand signs
    # need no operator.
    # A pass about a single entry is counted by default, not listed.
    assert demo.after["passed"]["issuer_operates_facility"] == 1
    assert not any(c["check"] == "issuer_operates_facility" for c in demo.after["checks"])
    assert operator_checks() == dict.fromkeys(signed, "attention")
    ledger.change_operators(garment, brand, add=[supplier.address.lower()])
    assert ledger.operators(garment) == [supplier.address]
    assert operator_checks() == dict.fromkeys(signed, "pass")
    assert ledger.verify(demo.batch)["verdict"] == "PASS"
    ledger.change_operators(garment, brand, remove=[supplier.address])
    assert ledger.operators(garment) == []
    assert operator_checks() == dict.fromkeys(signed, "attention")
    # Named and not counted; the garment maker is judged on the evidence that counts.
    report = ledger.verify(demo.batch)
    named = [c for c in report["checks"] if c["outcome"] != "pass"]
    assert report["verdict"] == "ATTENTION" and {c["facility"] for c in named} == {garment}
    assert all("a supplier signs only for its own" in c["reason"] for c in named)
    assert all(c["reason"].endswith("not counted") for c in named)
    assert_same_in_chunks(ledger, demo.batch, monkeypatch)


def test_revoked_evidence_is_not_counted(demo: DemoResult, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    spinning = next(s for s in demo.after["stages"] if s["tier"] == 3)
    [audit] = spinning["audits"]
    ledger.record(
        "revocation", {"target": audit["entry_id"], "reason": "auditor unlicensed"}, admin
    )
    ledger.anchor(admin)
    report = ledger.verify(demo.batch)
    assert report["verdict"] == "FAIL"
    assert ("not_revoked", "attention") in _failing(report)
    # The one entry a reader must look at is listed; the rest are counted.
    [listed] = report["entries"]
    assert (listed["entry_id"], listed["outcome"]) == (audit["entry_id"], "attention")
    assert listed["revoked_by"] and listed["root"] in {a["root"] for a in report["anchors"]}
    # No audit is left for the spinning mill, whose yarn is on the DOL list.
    assert ("audit_valid", "attention") in _failing(report)
    assert ("high_risk_notice", "fail") in _failing(report)
    assert_same_in_chunks(ledger, demo.batch, monkeypatch)


def test_a_withdrawn_lineage_needs_attention_from_the_mirror_and_its_bundle(
    demo: DemoResult,
) -> None:
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    before = ledger.verify(demo.batch)
    assert before["verdict"] == "PASS"
    made = next(e["via"] for e in before["graph"]["edges"]
                if e["kind"] == "transformation" and e["from"] == demo.batch)  # fmt: skip
    ledger.record("revocation", {"target": made, "reason": "wrong lot"}, admin)
    ledger.anchor(admin)

    report = ledger.verify(demo.batch)
    # The lot's own inputs are gone from the trace, which goes on over the supply links;
    # the verdict says so rather than passing as if nothing had been taken back.
    assert made not in {e["via"] for e in report["graph"]["edges"]}
    assert "supply_link" in {e["kind"] for e in report["graph"]["edges"]}
    assert report["verdict"] == "ATTENTION"
    [withdrawn] = [c for c in report["checks"] if c["check"] == "not_revoked"]
    assert (withdrawn["entry_id"], withdrawn["outcome"]) == (made, "attention")
    assert "traced without these inputs (over its facility's supply links" in withdrawn["reason"]

    # A bundle carries the withdrawn transformation and its revocation: judged alike.
    bundle = export_bundle(ledger, demo.batch)
    carried = {"0x" + e.entry_id.hex(): e.kind for e in bundle.entries}
    assert carried[made] == "transformation" and "revocation" in carried.values()
    from_bundle = verify_bundle(bundle, ledger.chain)
    assert from_bundle["verdict"] == "ATTENTION"
    assert [c for c in from_bundle["checks"] if c["check"] == "not_revoked"] == [withdrawn]

    # Made again by a corrected transformation, the lot has its lineage back; the withdrawn
    # one is still named, and still carried, or the chain's index would miss it.
    brand = Account.create()
    ledger.chain.fund(brand.address, 10**18)
    ledger.grant_role(admin, "BRAND", brand.address)
    [original] = ledger.describe_many([made])
    again = ledger.record("transformation", original.body | {"documents": []}, brand)
    ledger.anchor(brand)
    corrected = ledger.verify(demo.batch)
    assert "0x" + again.entry_id.hex() in {e["via"] for e in corrected["graph"]["edges"]}
    assert [c["entry_id"] for c in corrected["checks"] if c["check"] == "not_revoked"] == [made]
    from_bundle = verify_bundle(export_bundle(ledger, demo.batch), ledger.chain)
    assert from_bundle["verdict"] == corrected["verdict"] == "ATTENTION"
    assert not [c for c in from_bundle["checks"] if c["outcome"] == "fail"]


def test_an_entry_dated_after_its_anchor_fails(demo: DemoResult) -> None:
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    garment = next(s for s in demo.after["stages"] if s["tier"] == 1)["facility"]["facility_id"]
    supplier = Account.create()
    brand = Account.create()
    ledger.chain.fund(brand.address, 10**18)
    ledger.grant_role(admin, "BRAND", brand.address)
    ledger.grant_role(brand, "SUPPLIER", supplier.address)
    in_a_month = ledger.chain.block_timestamp(ledger.chain.latest_block()) + 30 * 86_400
    declaration = {
        "facility": garment,
        "claim": "freedom_of_movement",
        "valid_from": "2000-01-01",
        "valid_until": "2099-01-01",
    }
    entry = ledger.record("attestation", declaration, supplier, issued_at=in_a_month)
    ledger.anchor(brand)
    report = ledger.verify(demo.batch)
    assert report["verdict"] == "FAIL"
    [late] = [
        c
        for c in report["checks"]
        if c["check"] == "issued_before_anchor" and c["outcome"] == "fail"
    ]
    assert late["entry_id"] == "0x" + entry.entry_id.hex() and "after the block" in late["reason"]


def test_a_facility_without_an_audit_in_the_window_needs_attention(
    demo: DemoResult, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The farm made its cotton 140 days after its audit; the others were audited within 120.
    cli = _cli(demo, capsys, monkeypatch)
    code, out, _ = cli.run("verify", "TEE-26-0519", "--audit-months", "4", "--json")
    report = json.loads(out)
    assert code == 4 and report["verdict"] == "ATTENTION"
    doubts = {c["check"]: c["reason"] for c in report["checks"] if c["outcome"] != "pass"}
    assert sorted(doubts) == ["audit_valid", "forced_labour_findings"]
    assert doubts["audit_valid"].startswith("Adilabad Organic Cotton Growers: no anchored audit")
    # Without an audit nothing was assessed: the findings check must not claim a pass.
    assert "nothing was assessed" in doubts["forced_labour_findings"]
    code, out, _ = cli.run("verify", "TEE-26-0519", "--audit-months", "4")
    assert code == 4 and "ATTENTION" in out and "Adilabad Organic Cotton Growers" in out


def _goods_file(path: Path, **changes: Any) -> Path:
    """The shipped list plus VN fabric listed for forced labour, with `changes` applied."""
    data = load_goods_list().model_dump(mode="json")
    data["edition"] = "team edition 7"
    data["goods"].append(
        {"good": "Knit fabric", "keywords": ["knit"], "countries": {"VN": ["forced"]}}
    )
    data.update(changes)
    path.write_text(json.dumps(data))
    return path


def test_a_goods_list_of_ones_own_from_config_or_flag(
    demo: DemoResult, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = Ledger.open(demo.workspace)
    assert ledger.policy().goods().edition == "2024 (as of September 5, 2024)"
    _goods_file(demo.workspace / "goods.json")
    ledger.config.policy.goods_list = "goods.json"  # relative to the workspace
    report = ledger.verify(demo.batch)
    # The knitting mill's audit was announced; a list naming its fabric makes that fail.
    assert report["verdict"] == "FAIL" and report["goods_list"]["edition"] == "team edition 7"
    [reason] = [c["reason"] for c in report["checks"] if c["outcome"] == "fail"]
    assert reason.startswith("Saigon Knit Fabrics: Knit fabric from VN is on the DOL")

    cli = _cli(demo, capsys, monkeypatch)
    code, _, _ = cli.run("verify", "TEE-26-0519")
    assert code == 0  # the config on disk still names the shipped list
    flagged = _goods_file(demo.workspace.parent / "flag.json")
    code, out, _ = cli.run("verify", "TEE-26-0519", "--goods-list", str(flagged))
    assert code == 5 and "Saigon Knit Fabrics" in out
    # A list the CLI cannot use is refused naming the option, then where in the file.
    empty = demo.workspace.parent / "empty.json"
    empty.write_text("{}")
    for given, says in ((demo.workspace.parent, "cannot read"), (empty, "title: Field")):
        code, _, err = cli.run("verify", "TEE-26-0519", "--goods-list", str(given))
        assert code == 2 and err.startswith("error: --goods-list: ") and says in err, err


def test_a_goods_list_named_as_no_file_can_be_is_refused_in_one_line(demo: DemoResult) -> None:
    # Found by a fuzz of config.toml: a NUL in the name raised ValueError, not OSError.
    ledger = Ledger.open(demo.workspace)
    ledger.config.policy.goods_list = "goods\x00.json"
    with pytest.raises(InputError, match=r"^policy goods_list: cannot read .*\(not a file name\)$"):
        ledger.verify(demo.batch)


def test_reasons_say_when_the_goods_list_is_only_part_of_the_dol_list(
    demo: DemoResult,
) -> None:
    ledger = Ledger.open(demo.workspace)

    def not_listed(report: dict[str, Any]) -> list[str]:
        return [
            c["reason"]
            for c in report["checks"]
            if c["check"] == "high_risk_notice" and "not on the DOL" in c["reason"]
        ]

    # Passes are counted by default: their reasons are listed with all checks.
    shipped = ledger.verify(demo.batch, all_checks=True)
    assert shipped["goods_list"]["coverage"].startswith("abridged to apparel goods")
    assert not_listed(shipped) and all(
        "2024 (as of September 5, 2024); abridged to apparel goods" in r
        for r in not_listed(shipped)
    )
    _goods_file(demo.workspace / "whole.json", coverage="")
    ledger.config.policy.goods_list = "whole.json"
    whole = ledger.verify(demo.batch, all_checks=True)
    assert whole["goods_list"]["coverage"] == ""
    assert not_listed(whole) and all(r.endswith("(team edition 7)") for r in not_listed(whole))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"goods": []}, "goods: List should have at least 1 item after validation, not 0"),
        ({"edition": ""}, "edition: String should have at least 1 character"),
        (
            {"goods": [{"good": "Yarn", "keywords": ["yarn"], "countries": {"XX": ["forced"]}}]},
            "goods[0].countries: 'XX' is not an ISO 3166-1 alpha-2 country code",
        ),
        (
            {"goods": [{"good": "Yarn", "keywords": ["yarn"], "countries": {"IN": ["slave"]}}]},
            "goods[0].countries.IN[0]: 'slave' is not one of: 'child', 'forced'",
        ),
    ],
)
def test_a_bad_goods_list_is_refused_naming_the_field(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = _goods_file(tmp_path / "goods.json", **changes)
    with pytest.raises(InputError) as raised:
        Policy(goods_list=str(path))
    assert str(raised.value) == f"policy goods_list: {path}: {message}"
    with pytest.raises(InputError, match=r"^policy goods_list: cannot read"):
        Policy(goods_list=str(tmp_path / "missing.json"))


def test_audits_are_summarised_with_open_findings_in_full_unless_all_checks(
    demo: DemoResult,
) -> None:
    schema = jsonschema.Draft202012Validator(published("verify-report"))

    def spinning(report: dict[str, Any]) -> dict[str, Any]:
        [audit] = next(s for s in report["stages"] if s["tier"] == 3)["audits"]
        return audit

    open_one = spinning(demo.before)
    assert "findings" not in open_one
    [finding] = [f for f in open_one["open_findings"] if "debt_bondage" in f["ilo_indicators"]]
    assert finding["status"] == "open" and finding["history"][0]["by"] == "audit"
    assert finding["description"] and finding["severity"]
    closed = spinning(demo.after)
    assert "debt_bondage" not in {i for f in closed["open_findings"] for i in f["ilo_indicators"]}
    assert closed["findings_by_status"]["closed"] >= 1 and closed["state"] == "final"

    full = Ledger.open(demo.workspace).verify(demo.batch, all_checks=True)
    audit = spinning(full)
    assert "open_findings" not in audit
    assert sum(audit["findings_by_status"].values()) == len(audit["findings"])
    [closure] = [f for f in audit["findings"] if "debt_bondage" in f["ilo_indicators"]]
    assert [step["status"] for step in closure["history"]] == ["open", "closed"]
    # Every entry listed, each anchored under a root the report lists once.
    assert (
        len(full["entries"])
        == sum(full["entry_counts"].values())
        == sum(a["entries"] for a in full["anchors"])
    )
    assert {e["root"] for e in full["entries"]} == {a["root"] for a in full["anchors"]}
    for report in (demo.before, demo.after, full):
        assert [e.message for e in schema.iter_errors(report)] == []


def test_facilities_gathered_a_few_at_a_time_give_the_same_reports(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    def reports() -> list[dict[str, Any]]:
        ledger = Ledger.open(demo.workspace)
        found = [
            ledger.verify(demo.batch, all_checks=True),
            verify_bundle(read_bundle(demo.bundle), ledger.chain, all_checks=True),
        ]
        return [{k: v for k, v in r.items() if k != "generated_at"} for r in found]

    at_once = reports()
    monkeypatch.setattr(evidence, "FACILITY_CHUNK", 1)  # each of the demo's 4 on its own
    assert [len(r["stages"]) for r in at_once] == [4, 4]
    assert reports() == at_once
    monkeypatch.setattr(evidence, "POOL_MIN_FACILITIES", 1)  # in forked workers
    assert reports() == at_once


def test_a_verification_rebuilds_each_roots_tree_once(
    demo: DemoResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Proofs read a chunk at a time under more roots than the mirror keeps trees for."""
    ledger = Ledger.open(demo.workspace)
    rebuilt: list[str] = []
    rebuild = AnchorRecords._rebuild

    def counted(self: AnchorRecords, conn: Any, root: str, size: int) -> Any:
        rebuilt.append(root)
        return rebuild(self, conn, root, size)

    monkeypatch.setattr(AnchorRecords, "_rebuild", counted)
    monkeypatch.setattr(anchors, "TREES_KEPT", 1)
    monkeypatch.setattr(relied, "FACTS_CHUNK", 1)
    report = ledger.verify(demo.batch)
    assert len(report["anchors"]) > 1  # more roots than trees kept
    assert sorted(rebuilt) == sorted({a["root"] for a in report["anchors"]})


# Run in a fresh interpreter (see fresh.py). Large batches are checked in forked workers
# only from a single-threaded process: a dependency that left a thread behind (a pool's
# handler, a client's keep-alive) would make every large verify serial without a sign.
_WORKERS = """
import os, sys, threading
from pathlib import Path
from labourledger import parallel
from labourledger.ledger import Ledger
from labourledger.verify import evidence, relied

forked = []
fork = os.fork
def counted():
    pid = fork()
    if pid:
        forked.append(pid)
    return pid
os.fork = counted

workspace, batch = Path(sys.argv[1]), sys.argv[2]
def report():
    found = Ledger.open(workspace).verify(batch, all_checks=True)
    assert threading.active_count() == 1, threading.enumerate()
    return {k: v for k, v in found.items() if k != "generated_at"}

serial = report()
assert forked == [], forked  # the demo's batch is small
evidence.FACILITY_CHUNK, evidence.POOL_MIN_FACILITIES = 1, 1
relied.FACTS_CHUNK, relied.POOL_MIN_ENTRIES = 1, 1
pooled = report()
def workers(chunks):  # as map_chunks starts them: one per core, none for a single one
    started = min(parallel.cores(), chunks)
    return started if started > 1 else 0
# Workers for the facilities' histories (a facility a chunk, a stage each), then for the
# relied-on entries (an entry a chunk, each listed with all_checks).
assert len(forked) == workers(len(serial["stages"])) + workers(len(serial["entries"])), forked
assert pooled == serial
print("ok")
"""


def test_opening_and_verifying_leave_one_thread_so_large_batches_use_the_cores(
    demo: DemoResult,
) -> None:
    assert_prints_ok(_WORKERS, str(demo.workspace), demo.batch)
