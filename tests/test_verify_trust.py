"""Issue 10: a verdict a buyer can trust. Only the target's issuer or an admin may revoke,
whatever a mirror or a bundle holds; what a report says comes from signed bodies, never
from the mirror's projections. On anvil, with the auditor in a workspace of its own."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from clihelp import FAST_ENV, PASSPHRASE, Cli
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3.types import RPCEndpoint

from labourledger.authority import RevocationRefused
from labourledger.demo import DemoResult, run_demo
from labourledger.envelope import SignedEntry
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

FUNDS = 10**18


@dataclass(frozen=True)
class Story:
    """The demo on anvil, a brand key, and an auditor signing in a second workspace."""

    demo: DemoResult
    ledger: Ledger
    admin: LocalAccount
    brand: LocalAccount
    auditor_ws: Ledger
    auditor: LocalAccount
    #: An audit the auditor signed and anchored itself, imported by the brand.
    audit: str


@pytest.fixture
def story(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anvil_url: str) -> Story:
    """A fresh demo (its own contract) per test: each test changes the chain."""
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    demo = run_demo(tmp_path / "demo", admin_passphrase=PASSPHRASE, chain=anvil_url)
    ledger = Ledger.open(demo.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    brand: LocalAccount = Account.create()
    ledger.chain.fund(brand.address, FUNDS)
    ledger.grant_role(admin, "BRAND", brand.address)

    auditor_ws = Ledger.init(
        tmp_path / "auditor",
        chain=anvil_url,
        contract=ledger.config.chain.contract,
        confirmations=0,
    )
    auditor_ws.workspace.keys.new("auditor", PASSPHRASE)
    auditor = auditor_ws.workspace.keys.unlock("auditor", PASSPHRASE)
    ledger.chain.fund(auditor.address, FUNDS)
    ledger.grant_role(admin, "AUDITOR", auditor.address)
    garment = _stage(demo.after, 1)["facility"]["facility_id"]
    entry = auditor_ws.record("audit", _clean_audit(garment), auditor)
    auditor_ws.anchor(auditor)  # an auditor anchors its own audit: no brand can hold it back
    signed = auditor_ws.write_entries(tmp_path / "audit.json", [entry], with_proofs=True)
    ledger.import_file(signed)
    return Story(demo, ledger, admin, brand, auditor_ws, auditor, "0x" + entry.entry_id.hex())


def _clean_audit(facility: str) -> dict[str, Any]:
    return {
        "facility": facility,
        "standard": "SMETA 4-pillar",
        "audit_type": "periodic",
        "notice": "unannounced",
        "start_date": "2026-01-10",
        "end_date": "2026-01-12",
        "workers_interviewed": 30,
        "result": "pass",
        "valid_until": "2027-01-12",
        "findings": [],
    }


def _stage(report: dict[str, Any], tier: int) -> dict[str, Any]:
    return next(s for s in report["stages"] if s["tier"] == tier)


def _view(entry: SignedEntry) -> dict[str, Any]:
    """An entry as a bundle carries it, not anchored."""
    return entry.to_json_dict() | {"status": "pending", "revoked_by": [], "proof": None,
                                   "anchor": None}  # fmt: skip


def _verify_bundle(
    story: Story, bundle: dict[str, Any], path: Path, capsys: Any, mp: Any, *flags: str
) -> tuple[int, dict[str, Any]]:
    path.write_text(json.dumps(bundle))
    # A bundle is verified at the confirmations a URL chain needs (12); anvil mines on demand.
    story.ledger.chain.w3.provider.make_request(RPCEndpoint("anvil_mine"), [12])
    cli = Cli(story.demo.workspace, capsys, mp)
    code, out, err = cli.run("verify", "--bundle", str(path), "--json", *flags)
    assert code in (0, 4, 5), err
    report: dict[str, Any] = json.loads(out)
    return code, report


def _spinning_audit(story: Story) -> str:
    [audit] = _stage(story.demo.after, 3)["audits"]
    entry_id: str = audit["entry_id"]
    return entry_id


def test_forged_revocations_in_a_bundle_change_nothing(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    ledger = story.ledger
    bundle = ledger.export_bundle(story.demo.batch).model_dump(mode="json")
    code, honest = _verify_bundle(story, bundle, tmp_path / "honest.json", capsys, monkeypatch)
    assert honest["verdict"] == "PASS"
    target = _spinning_audit(story)
    body = {"target": target, "reason": "auditor unlicensed"}
    # Signed by a key nobody accredited; and the admin's, with a random signature.
    unaccredited = ledger.sign("revocation", body, Account.create())
    scrambled = _view(ledger.sign("revocation", body, story.admin))
    scrambled["signature"] = "0x" + secrets.token_hex(65)
    bundle["entries"] += [_view(unaccredited), scrambled]
    forged_code, report = _verify_bundle(story, bundle, tmp_path / "forged.json", capsys,
                                         monkeypatch)  # fmt: skip

    assert (forged_code, report["verdict"]) == (code, honest["verdict"])
    assert [c for c in report["checks"] if c["outcome"] != "pass"] == [
        c for c in honest["checks"] if c["outcome"] != "pass"
    ]
    ignored = {c["entry_id"]: c["reason"] for c in report["ignored"]}
    assert set(ignored) == {"0x" + unaccredited.entry_id.hex(), scrambled["entry_id"]}
    assert (
        f"{unaccredited.issuer} may not revoke {target}"
        in ignored["0x" + unaccredited.entry_id.hex()]
    )
    assert "signature" in ignored[scrambled["entry_id"]]
    assert all(c["outcome"] == "fail" for c in report["ignored"])


def test_a_brand_may_not_revoke_an_auditors_audit(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    ledger = story.ledger
    before = ledger.verify(story.demo.batch)
    body = {"target": story.audit, "reason": "we disagree"}
    with pytest.raises(RevocationRefused, match="only the issuer") as refused:
        ledger.record("revocation", body, story.brand)
    assert refused.value.exit_code == 2
    assert ledger.mirror.revocations([story.audit]) == {}  # nothing half-written

    # Forced past `record` into the mirror and anchored: verify still ignores it.
    forced = ledger.sign("revocation", body, story.brand)
    ledger.store([forced])
    ledger.anchor(story.brand)
    after = ledger.verify(story.demo.batch)
    assert after["verdict"] == before["verdict"]
    [ignored] = after["ignored"]
    assert ignored["entry_id"] == "0x" + forced.entry_id.hex()
    assert f"only the issuer ({story.auditor.address})" in ignored["reason"]
    audits = {a["entry_id"]: a for a in _stage(after, 1)["audits"]}
    assert audits[story.audit]["revoked_by"] == []

    # And forced into a bundle, it is ignored there too.
    bundle = ledger.export_bundle(story.demo.batch).model_dump(mode="json")
    assert forced.entry_id.hex() not in json.dumps(bundle)  # export carries what counts
    bundle["entries"].append(_view(forced))
    _, report = _verify_bundle(story, bundle, tmp_path / "b.json", capsys, monkeypatch)
    assert report["verdict"] == before["verdict"]
    assert [c["entry_id"] for c in report["ignored"]] == ["0x" + forced.entry_id.hex()]

    # The auditor may withdraw its own audit, and the admin any entry.
    own = story.auditor_ws.record("revocation", body, story.auditor)
    assert own.issuer == story.auditor.address


def test_the_report_names_facilities_from_signed_bodies(story: Story) -> None:
    ledger = story.ledger
    spinning = _stage(story.demo.after, 3)["facility"]
    with ledger.mirror.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE facilities SET name = 'Renamed Mill' WHERE facility_id = :f"),
            {"f": spinning["facility_id"]},
        )
        conn.execute(sa.text("UPDATE batches SET lot = 'FORGED-LOT'"))
    report = ledger.verify(story.demo.batch)
    text = json.dumps(report)
    assert "Renamed Mill" not in text and "FORGED-LOT" not in text
    assert _stage(report, 3)["facility"]["name"] == spinning["name"]
    assert spinning["name"] in {n["facility_name"] for n in report["graph"]["nodes"]}
    assert report["batch"]["lot"] == story.demo.after["batch"]["lot"]


def test_a_malformed_bundle_is_refused_with_one_line_naming_the_field(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    honest = story.ledger.export_bundle(story.demo.batch).model_dump(mode="json")
    facility = next(i for i, e in enumerate(honest["entries"]) if e["kind"] == "facility")
    anchored = next(i for i, e in enumerate(honest["entries"]) if e["proof"]["path"])

    def without(key: str) -> Any:
        return lambda b: b.pop(key)

    cases: dict[str, tuple[Any, str]] = {
        "no chain id": (without("chain_id"), "chain_id: Field required"),
        "no salt": (lambda b: b["entries"][0].pop("salt"), "entries[0].salt: Field required"),
        "entries a string": (lambda b: b.update(entries="all of them"), "entries: "),
        "duplicated": (
            lambda b: b["entries"].append(b["entries"][3]),
            f"entries[{len(honest['entries'])}]: entry {honest['entries'][3]['entry_id']} "
            "appears twice",
        ),
        "kind changed": (
            lambda b: b["entries"][facility].update(kind="product"),
            f"entries[{facility}]: ",
        ),
        "unknown batch": (
            lambda b: b.update(batch="0x" + "ab" * 32),
            "batch: no batch entry in the bundle has id 0x" + "ab" * 32,
        ),
        "non-hex proof": (
            lambda b: b["entries"][anchored]["proof"]["path"].__setitem__(0, "0xnothex"),
            f"entries[{anchored}].proof.path[0]: ",
        ),
    }
    cli = Cli(story.demo.workspace, capsys, monkeypatch)
    for what, (change, expected) in cases.items():
        bundle = json.loads(json.dumps(honest))
        change(bundle)
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bundle))
        code, _, err = cli.run("verify", "--bundle", str(path))
        assert code == 2, (what, err)
        assert len(err.strip().splitlines()) == 1, (what, err)
        assert f"{path}: not a valid bundle: {expected}" in err, (what, err)


def test_a_bundle_names_the_admin_it_trusts(
    story: Story,
    tmp_path: Path,
    anvil_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: Any,
) -> None:
    ours = story.admin.address.lower()
    honest = story.ledger.export_bundle(story.demo.batch).model_dump(mode="json")
    path = tmp_path / "honest.json"
    code, report = _verify_bundle(story, honest, path, capsys, monkeypatch, "--trust-admin", ours)
    assert (code, report["verdict"]) == (0, "PASS")
    assert report["trust"]["admins"] == [ours] and report["trust"]["trusted_admins"] == [ours]

    # Someone else deploys the same contract with themselves as admin and tells a story.
    other = run_demo(tmp_path / "other", admin_passphrase=PASSPHRASE, chain=anvil_url)
    theirs = Ledger.open(other.workspace)
    their_admin = theirs.workspace.keys.unlock("admin", PASSPHRASE).address.lower()
    bundle = theirs.export_bundle(other.batch).model_dump(mode="json")
    assert bundle["contract"] != honest["contract"]
    path = tmp_path / "theirs.json"
    code, report = _verify_bundle(story, bundle, path, capsys, monkeypatch)
    assert report["verdict"] == "PASS" and report["trust"]["admins"] == [their_admin]
    _, out, _ = Cli(story.demo.workspace, capsys, monkeypatch).run("verify", "--bundle", str(path))
    assert f"trusted the contract's own admin(s): {their_admin}" in " ".join(out.split())

    code, report = _verify_bundle(story, bundle, path, capsys, monkeypatch, "--trust-admin", ours)
    assert (code, report["verdict"]) == (5, "FAIL")
    failed = [c for c in report["checks"] if c["outcome"] == "fail"]
    assert failed and all(c["check"] == "accredited_by" for c in failed)
    assert all(
        f"accredited by {their_admin}, not by a trusted admin" in c["reason"] for c in failed
    )


def test_a_bundle_leaving_out_the_failing_audit_fails_naming_it(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    first = story.demo.still["batch"]["batch_id"]  # made while F-1 was open: FAIL
    bundle = story.ledger.export_bundle(first).model_dump(mode="json")
    failing = _spinning_audit(story)
    left_out = [e for e in bundle["entries"] if failing in (e["entry_id"], e["body"].get("audit"))]
    bundle["entries"] = [e for e in bundle["entries"] if e not in left_out]
    path = tmp_path / "selective.json"
    code, report = _verify_bundle(story, bundle, path, capsys, monkeypatch)
    assert (code, report["verdict"]) == (5, "FAIL")
    complete = {c["entry_id"]: c for c in report["checks"] if c["check"] == "complete"}
    assert set(complete) == {failing}  # its updates are indexed under it, so it is enough
    brand_anchored = left_out[0]["anchor"]["block_number"]
    assert f"block {brand_anchored}, anchored by" in complete[failing]["reason"]
    assert complete[failing]["outcome"] == "fail"
    assert complete[failing]["facility"] == _stage(story.demo.after, 3)["facility"]["facility_id"]


def test_a_bundle_leaving_out_a_lots_transformation_fails_naming_it(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    # Left out, the lot's lineage would fall back to its facility's supply links, which
    # the brand chooses: the transformation is indexed under the lot it made.
    bundle = story.ledger.export_bundle(story.demo.batch).model_dump(mode="json")
    [made] = [
        e
        for e in bundle["entries"]
        if e["kind"] == "transformation" and e["body"]["output"] == bundle["batch"]
    ]
    bundle["entries"].remove(made)
    code, report = _verify_bundle(story, bundle, tmp_path / "no-lineage.json", capsys, monkeypatch)
    assert (code, report["verdict"]) == (5, "FAIL")
    [missed] = [c for c in report["checks"] if c["check"] == "complete"]
    assert (missed["entry_id"], missed["outcome"]) == (made["entry_id"], "fail")
    assert f"block {made['anchor']['block_number']}, anchored by" in missed["reason"]
    assert missed["facility"] == made["body"]["facility"]


def test_an_audit_its_auditor_anchored_is_missed_until_imported(story: Story) -> None:
    garment = _stage(story.demo.after, 1)["facility"]["facility_id"]
    entry = story.auditor_ws.record("audit", _clean_audit(garment), story.auditor)
    story.auditor_ws.anchor(story.auditor)
    report = story.ledger.verify(story.demo.batch)
    [missed] = [c for c in report["checks"] if c["outcome"] == "fail"]
    assert (missed["check"], missed["entry_id"]) == ("complete", "0x" + entry.entry_id.hex())
    assert f"anchored by {story.auditor.address}" in missed["reason"]
    path = story.auditor_ws.write_entries(
        story.demo.workspace / "a.json", [entry], with_proofs=True
    )
    story.ledger.import_file(path)
    assert story.ledger.verify(story.demo.batch)["verdict"] == "PASS"


def test_a_revocation_anchored_after_export_is_applied(
    story: Story, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    bundle = story.ledger.export_bundle(story.demo.batch).model_dump(mode="json")
    path = tmp_path / "exported.json"
    assert _verify_bundle(story, bundle, path, capsys, monkeypatch)[1]["verdict"] == "PASS"
    audit = _spinning_audit(story)
    withdrawn = story.ledger.record(
        "revocation", {"target": audit, "reason": "auditor unlicensed"}, story.admin
    )
    story.ledger.anchor(story.admin)
    _, report = _verify_bundle(story, bundle, path, capsys, monkeypatch)
    assert report["verdict"] != "PASS"
    [applied] = [c for c in report["checks"] if c["check"] == "not_revoked"]
    assert applied["entry_id"] == audit and applied["outcome"] == "attention"
    assert f"0x{withdrawn.entry_id.hex()} (on chain" in applied["reason"]
    assert audit not in {a["entry_id"] for a in _stage(report, 3)["audits"] if not a["revoked_by"]}
