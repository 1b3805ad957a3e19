"""Importing signed entry files refuses entries whose envelope does not follow from the body."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from clihelp import FAST_ENV, PASSPHRASE
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from labourledger import kinds
from labourledger.envelope import SignedEntry, sign_entry
from labourledger.ledger import EntriesRefused, Ledger

pytestmark = pytest.mark.integration

FACILITY = "0x" + keccak(b"os:IN2024007SPNC3S").hex()
AUDIT = kinds.canonical_body(
    "audit",
    {
        "facility": FACILITY,
        "standard": "SA8000",
        "audit_type": "initial",
        "notice": "announced",
        "start_date": "2026-01-05",
        "end_date": "2026-01-06",
        "workers_interviewed": 12,
    },
)


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Ledger:
    for name, value in FAST_ENV.items():
        monkeypatch.setenv(name, value)
    ledger = Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    keys = ledger.workspace.keys
    for name, role in (("auditor", "AUDITOR"), ("brand", "BRAND")):
        keys.new(name, PASSPHRASE)
        ledger.grant_role(keys.unlock("admin", PASSPHRASE), role, keys.address(name))
    return ledger


def _key(ledger: Ledger, name: str) -> LocalAccount:
    return ledger.workspace.keys.unlock(name, PASSPHRASE)


def _refusal(ledger: Ledger, tmp_path: Path, entry: SignedEntry) -> str:
    path = ledger.write_entries(tmp_path / "entry.json", [entry])
    with pytest.raises(EntriesRefused) as refused:
        ledger.import_file(path)
    assert ledger.mirror.counts()["entries"] == 0
    return str(refused.value)


def _signed(
    ledger: Ledger, signer: str, kind: str, body: dict[str, Any], **envelope: Any
) -> SignedEntry:
    fields: dict[str, Any] = {
        "subject": bytes.fromhex(FACILITY[2:]),
        "refs": [bytes.fromhex(FACILITY[2:])],
    }
    fields.update(envelope)
    return sign_entry(
        private_key=_key(ledger, signer).key,
        domain=ledger.domain,
        kind=kind,  # type: ignore[arg-type]
        body=body,
        issued_at=1_767_225_600,
        **fields,
    )


def test_well_formed_audit_is_imported_once(ledger: Ledger, tmp_path: Path) -> None:
    path = ledger.write_entries(tmp_path / "ok.json", [_signed(ledger, "auditor", "audit", AUDIT)])
    assert ledger.import_file(path).new == 1
    assert ledger.import_file(path).new == 0


def test_files_imported_together_are_stored_all_or_none(ledger: Ledger, tmp_path: Path) -> None:
    audit = _signed(ledger, "auditor", "audit", AUDIT)
    good = ledger.write_entries(tmp_path / "good.json", [audit])
    target = "0x" + audit.entry_id.hex()
    withdrawn = _signed(
        ledger, "auditor", "revocation", {"target": target, "reason": "wrong facility"},
        subject=audit.entry_id, refs=[audit.entry_id],
    )  # fmt: skip
    revoked = ledger.write_entries(tmp_path / "revoked.json", [withdrawn])
    bad = ledger.write_entries(tmp_path / "bad.json", [_signed(ledger, "brand", "audit", AUDIT)])
    with pytest.raises(EntriesRefused, match=r"bad\.json: refused, nothing imported"):
        ledger.import_files([good, revoked, bad])
    assert ledger.mirror.counts()["entries"] == 0  # the good files were not stored either
    # A later file may rest on an earlier one (a revocation of the audit before it); an
    # entry in two files is new once.
    results = ledger.import_files([good, revoked, good])
    assert [r.new for r in results] == [1, 1, 0]
    assert ledger.mirror.counts()["entries"] == 2


def test_subject_refs_and_canonical_form_are_checked(ledger: Ledger, tmp_path: Path) -> None:
    other = keccak(b"another facility")
    wrong_subject = _signed(ledger, "auditor", "audit", AUDIT, subject=other)
    assert "subject does not follow from the body" in _refusal(ledger, tmp_path, wrong_subject)
    wrong_refs = _signed(ledger, "auditor", "audit", AUDIT, refs=[other])
    assert "refs do not follow from the body" in _refusal(ledger, tmp_path, wrong_refs)
    loose = AUDIT | {"grade": None}  # valid, but its canonical form leaves the None out
    assert "canonical form" in _refusal(
        ledger, tmp_path, _signed(ledger, "auditor", "audit", loose)
    )


def test_role_and_revocation_rules(ledger: Ledger, tmp_path: Path) -> None:
    by_brand = _signed(ledger, "brand", "audit", AUDIT)
    assert "holds no AUDITOR role" in _refusal(ledger, tmp_path, by_brand)
    target = "0x" + "ab" * 32
    revocation = _signed(
        ledger,
        "brand",
        "revocation",
        {"target": target, "reason": "mistake"},
        subject=bytes.fromhex(target[2:]),
        refs=[bytes.fromhex(target[2:])],
    )
    assert "import it first" in _refusal(ledger, tmp_path, revocation)


def test_a_json_file_named_as_no_file_can_be_is_refused_in_one_line(tmp_path: Path) -> None:
    from labourledger.errors import InputError
    from labourledger.exchange import read_json

    with pytest.raises(InputError, match=r"cannot read \(not a file name\)$"):
        read_json(tmp_path / "entries\x00.json")
