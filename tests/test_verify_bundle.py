"""A bundle verified in memory: revocations inside it count only when they verify, also
where they would cut the trace; its deploy block is checked against the chain; and no
alteration of it makes verify trace back or PASS."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clihelp import FAST_ENV, PASSPHRASE
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labourledger.bundle import Bundle, read_bundle
from labourledger.bundling import export_bundle
from labourledger.demo import DemoResult, run_demo
from labourledger.errors import InputError
from labourledger.ledger import Ledger
from labourledger.verify.batch import verify_batch
from labourledger.verify.bundled import BundleEvidence
from labourledger.verify.policy import Policy
from labourledger.verify.verdict import VerificationReport

pytestmark = pytest.mark.integration

#: The fields an entry's signature covers (directly or through its content hash).
SIGNED = ("entry_id", "issuer", "kind", "schema_version", "subject", "refs", "issued_at",
          "content_hash", "signature", "body", "salt")  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoResult, Ledger]]:
    """The demo, run once for the module; tests only read its workspace."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)
        root = tmp_path_factory.mktemp("demo") / "demo"
        result = run_demo(root, admin_passphrase=PASSPHRASE)
        yield result, Ledger.open(result.workspace)


def _honest(demo: tuple[DemoResult, Ledger]) -> dict[str, Any]:
    result, _ = demo
    data: dict[str, Any] = json.loads(result.bundle.read_text())
    return data


def _verify(
    ledger: Ledger, bundle: dict[str, Any], *, all_checks: bool = False
) -> VerificationReport:
    return verify_batch(BundleEvidence(Bundle.model_validate(bundle), ledger.chain),
                        bundle["batch"], Policy(), all_checks=all_checks)  # fmt: skip


def _unanchored(entry: Any) -> dict[str, Any]:
    view: dict[str, Any] = entry.to_json_dict() | {"proof": None, "anchor": None}
    return view


def test_only_a_revocation_that_verifies_cuts_a_bundles_trace(
    demo: tuple[DemoResult, Ledger],
) -> None:
    _, ledger = demo
    honest = _honest(demo)
    before = _verify(ledger, honest)
    assert before.verdict.value == "pass"
    transformation = next(e["entry_id"] for e in honest["entries"]
                          if e["kind"] == "transformation")  # fmt: skip
    body = {"target": transformation, "reason": "never happened"}

    forged = ledger.sign("revocation", body, Account.create())  # a key with no say
    bundle = json.loads(json.dumps(honest))
    bundle["entries"].append(_unanchored(forged))
    after = _verify(ledger, bundle)
    assert after.graph == before.graph and len(after.stages) == len(before.stages)
    assert after.verdict == before.verdict
    [named] = after.ignored
    assert named.entry_id == "0x" + forged.entry_id.hex() and named.outcome.value == "fail"
    assert f"revocation of {transformation} ignored: " in named.reason

    # The same revocation by the admin counts: the lots' lineage stops at the revoked edge,
    # and the trace goes on over the facilities' supply links, which the bundle carries as
    # the mirror holds them, so both walk alike.
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    bundle = json.loads(json.dumps(honest))
    bundle["entries"].append(_unanchored(ledger.sign("revocation", body, admin)))
    cut = _verify(ledger, bundle)
    assert transformation not in {e["via"] for e in cut.graph["edges"]}
    assert transformation in {e["via"] for e in before.graph["edges"]}
    assert "supply_link" in {e["kind"] for e in cut.graph["edges"]}
    assert "supply_link" not in {e["kind"] for e in before.graph["edges"]}
    # Lineage withdrawn: the verdict wants a reader's look, not a silent pass.
    assert (before.verdict.value, cut.verdict.value) == ("pass", "attention")


def test_a_bundles_deploy_block_is_checked_against_the_chain(
    demo: tuple[DemoResult, Ledger],
) -> None:
    _, ledger = demo
    honest = _honest(demo)
    checks = {c.check: c for c in _verify(ledger, honest, all_checks=True).checks}
    assert checks["deploy_block"].outcome.value == "pass"
    head = ledger.chain.latest_block()
    for block, says in (
        (honest["deploy_block"] + 1, "already existed before"),
        (honest["deploy_block"] - 1, "did not exist yet at"),
        (head + 1, "already existed before"),
        (10**30, f"exists on a chain whose newest block, {head}, comes before"),
    ):
        bundle = honest | {"deploy_block": block}
        report = _verify(ledger, bundle)
        [failed] = [c for c in report.checks if c.check == "deploy_block"]
        assert report.verdict.value == "fail" and failed.outcome.value == "fail"
        assert f"in block {bundle['deploy_block']}, but it {says} that block" in failed.reason


def _mutations(bundle: dict[str, Any]) -> st.SearchStrategy[tuple[str, list[Any], Any]]:
    """(operation, path, value): drop or retype a field, alter a string, duplicate or drop an
    entry; paths reach the bundle's own fields and every entry's, down to proof and body."""
    paths: list[list[Any]] = [[k] for k in bundle]
    for i, entry in enumerate(bundle["entries"]):
        paths += [["entries", i, k] for k in entry]
        paths += [["entries", i, "body", k] for k in entry["body"]]
        if entry.get("proof"):
            paths += [["entries", i, "proof", k] for k in entry["proof"]]
    wrong = st.sampled_from([None, 7, -1, "x", "0x" + "00" * 32, [], {}, True, 2**70])
    entry = st.integers(0, len(bundle["entries"]) - 1)
    return st.one_of(
        st.tuples(st.just("drop"), st.sampled_from(paths), st.none()),
        st.tuples(st.just("retype"), st.sampled_from(paths), wrong),
        st.tuples(st.just("flip"), st.sampled_from(paths), st.integers(0, 200)),
        st.tuples(st.just("duplicate"), entry.map(lambda i: ["entries", i]), st.none()),
        st.tuples(st.just("remove"), entry.map(lambda i: ["entries", i]), st.none()),
    )


def _apply(bundle: dict[str, Any], operation: str, path: list[Any], value: Any) -> bool:
    """Change `bundle` in place; whether anything changed."""
    *parents, key = path
    holder: Any = bundle
    for step in parents:
        holder = holder[step]
    if operation == "drop":
        del holder[key]
    elif operation == "retype":
        if holder[key] == value:
            return False
        holder[key] = value
    elif operation == "flip":
        text = holder[key]
        if not isinstance(text, str) or not text:
            return False
        at = value % len(text)
        holder[key] = text[:at] + ("1" if text[at] != "1" else "2") + text[at + 1 :]
    elif operation == "duplicate":
        holder.append(json.loads(json.dumps(holder[key])))
    else:
        del holder[key]
    return True


@pytest.fixture(scope="module")
def honest_bundle(demo: tuple[DemoResult, Ledger]) -> dict[str, Any]:
    return _honest(demo)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_an_altered_bundle_is_refused_in_one_line_or_fails_never_passes(
    demo: tuple[DemoResult, Ledger], honest_bundle: dict[str, Any], tmp_path: Path, data: Any
) -> None:
    _, ledger = demo
    bundle = json.loads(json.dumps(honest_bundle))
    operation, path, value = data.draw(_mutations(bundle))
    if not _apply(bundle, operation, path, value):
        return
    file = tmp_path / "altered.json"
    file.write_text(json.dumps(bundle))
    try:
        read = read_bundle(file)
        if read == Bundle.model_validate(honest_bundle):
            return  # e.g. an empty `refs` dropped: the entry reads back as signed
        report = verify_batch(BundleEvidence(read, ledger.chain), bundle["batch"], Policy())
    except InputError as refused:
        assert len(str(refused).splitlines()) == 1, str(refused)
        if "not a valid bundle" in str(refused):
            # Names where: the top-level field, or the entry and its field.
            assert f"{file}: not a valid bundle: " in str(refused)
        return
    signed_body = (len(path) >= 3 and path[2] in SIGNED) or operation == "duplicate"
    if signed_body:
        assert report.verdict.value == "fail", (operation, path, value, report.checks)


def test_a_batch_body_without_a_defaulted_field_fails_verification_without_a_crash(
    demo: tuple[DemoResult, Ledger], honest_bundle: dict[str, Any], tmp_path: Path
) -> None:
    # Found by the fuzz test above: `unit` has a default, so the body still validates, but
    # the signed body had it; the trace must read the defaulted form and integrity must fail.
    _, ledger = demo
    bundle = json.loads(json.dumps(honest_bundle))
    batch = next(e for e in bundle["entries"] if e["kind"] == "batch" and "unit" in e["body"])
    del batch["body"]["unit"]
    file = tmp_path / "altered.json"
    file.write_text(json.dumps(bundle))
    report = verify_batch(
        BundleEvidence(read_bundle(file), ledger.chain), bundle["batch"], Policy()
    )
    assert report.verdict.value == "fail"


@pytest.mark.parametrize(
    ("kind", "field", "change", "reason"),
    [
        ("supply_link", "valid_from", lambda _: 0, "expected a date as YYYY-MM-DD, not a number"),
        ("attestation", "valid_until", lambda _: 86_400, "not a number"),
        ("batch", "produced_at", lambda _: 86_400.0, "not a number"),
        ("supply_link", "buyer", lambda v: "0x" + v[2:].upper(), "not as labourledger writes"),
    ],
)
def test_a_body_value_its_kind_reads_as_another_is_refused_naming_it(
    honest_bundle: dict[str, Any], tmp_path: Path, kind: str, field: str, change: Any, reason: str
) -> None:
    # Found by a fuzz of bundles: a date given as a number was a date to pydantic (Unix
    # time), so the body validated, and the trace and the audit views then met a number.
    # Other values its kind would rewrite (an id in upper case) are refused alike.
    bundle = json.loads(json.dumps(honest_bundle))
    at, entry = next((i, e) for i, e in enumerate(bundle["entries"]) if e["kind"] == kind)
    entry["body"][field] = change(entry["body"][field])
    file = tmp_path / "altered.json"
    file.write_text(json.dumps(bundle))
    with pytest.raises(InputError) as refused:
        read_bundle(file)
    message = str(refused.value)
    assert message.startswith(f"{file}: not a valid bundle: entries[{at}]: body.{field}: ")
    assert reason in message and len(message.splitlines()) == 1


def test_what_a_facility_supplies_beyond_the_trace_is_judged_alike_in_mirror_and_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    result = run_demo(tmp_path / "demo", admin_passphrase=PASSPHRASE)
    ledger = Ledger.open(result.workspace)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    ledger.grant_role(admin, "BRAND", admin.address)
    [farm] = [f.facility_id for f in ledger.facilities(tier=4)]
    body = {"name": "Other Buyer Mill", "country": "IN", "address": "9 Mill Road", "tier": 3}
    other = "0x" + ledger.record("facility", body, admin).subject.hex()
    # The farm also sells yarn to a mill outside this batch's trace: a listed good from IN.
    link = ledger.record(
        "supply_link",
        {"supplier": farm, "buyer": other, "material": "cotton thread/yarn",
         "valid_from": "2025-01-01"},
        admin,
    )  # fmt: skip
    ledger.anchor(admin)
    bundle = export_bundle(ledger, result.batch)
    assert link.entry_id in {e.entry_id for e in bundle.entries}

    def judged(checks: list[dict[str, Any]]) -> str:
        return str(
            next(c["reason"] for c in checks
                 if c["facility"] == farm and c["check"] == "high_risk_notice")
        )  # fmt: skip

    from_mirror = judged(ledger.verify(result.batch, all_checks=True)["checks"])
    from_bundle = _verify(ledger, bundle.model_dump(mode="json"), all_checks=True)
    assert "Thread/Yarn from IN is on the DOL forced labour list" in from_mirror
    assert judged(from_bundle.to_dict()["checks"]) == from_mirror


def test_the_report_names_the_transaction_the_chain_logged_not_the_bundles_claim(
    demo: tuple[DemoResult, Ledger],
) -> None:
    """A carried anchor's transaction is only what the bundle says: the report's anchors,
    and the audits' anchors, name the one the chain logged for the root."""
    _, ledger = demo
    honest = _honest(demo)
    forged = json.loads(json.dumps(honest))
    claimed = "0x" + "5a" * 32
    for entry in forged["entries"]:
        if entry.get("anchor"):
            entry["anchor"]["tx_hash"] = claimed
    before = _verify(ledger, honest).to_dict()
    after = _verify(ledger, forged).to_dict()
    logged = {a["root"]: a["tx_hash"] for a in before["anchors"]}
    assert logged and claimed not in logged.values() and None not in logged.values()
    assert {a["root"]: a["tx_hash"] for a in after["anchors"]} == logged
    assert after["verdict"] == before["verdict"]
    assert claimed not in json.dumps(after)
