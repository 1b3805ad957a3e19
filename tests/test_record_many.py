"""record_many signs large batches in forked workers: the same entries this process would
sign, stored as they come in one transaction, all or none."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from clihelp import PASSPHRASE
from eth_account.signers.local import LocalAccount

from labourledger import kinds, parallel, recording
from labourledger.envelope import sign_entry
from labourledger.errors import InputError
from labourledger.identifiers import make_os_id
from labourledger.ledger import Ledger

pytestmark = pytest.mark.integration

ISSUED_AT = 1_767_225_600


@pytest.fixture
def ledger(tmp_path: Path, mirror_url: str) -> Ledger:
    return Ledger.init(tmp_path / "ws", db=mirror_url, admin_passphrase=PASSPHRASE)


@pytest.fixture
def brand(ledger: Ledger) -> LocalAccount:
    keys = ledger.workspace.keys
    keys.new("brand", PASSPHRASE)
    ledger.grant_role(keys.unlock("admin", PASSPHRASE), "BRAND", keys.address("brand"))
    return keys.unlock("brand", PASSPHRASE)


@dataclass(frozen=True)
class Signing:
    """Where `record_many` signs (in forked "workers", or "here") and a file each process
    that signs a chunk writes its id to (a worker's memory does not come back; a file does)."""

    where: str
    log: Path

    def processes(self) -> set[int]:
        """The ids of the processes that signed so far."""
        return {int(line) for line in self.log.read_text().split()}

    def check(self) -> None:
        """That the bodies were signed where they should have been."""
        signed = self.processes()
        if self.where == "workers":
            assert signed and os.getpid() not in signed
        else:
            assert signed == {os.getpid()}


@pytest.fixture(params=["workers", "here"])
def signing(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Signing:
    """In workers, a few bodies go to a chunk and are stored a few at a time, so a batch is
    stored before a later chunk fails."""
    found = Signing(request.param, tmp_path / "signers")
    if found.where == "workers":
        # Two workers even on a one-core machine: the test is about where signing happens.
        monkeypatch.setattr(parallel, "cores", lambda: 2)
        monkeypatch.setattr(recording, "spare_core", lambda: True)
        monkeypatch.setattr(recording, "POOL_MIN_BODIES", 4)
        monkeypatch.setattr(recording, "SIGN_CHUNK", 3)
        monkeypatch.setattr(recording, "STORE_CHUNK", 4)
    _note_signers(found, monkeypatch)
    return found


def _note_signers(found: Signing, monkeypatch: pytest.MonkeyPatch) -> None:
    """Have each process that signs a chunk write its id to `found.log`."""
    found.log.touch()
    sign_rows = recording._sign_rows

    def noted(*args: Any) -> Any:
        with found.log.open("a") as file:
            file.write(f"{os.getpid()}\n")
        return sign_rows(*args)

    monkeypatch.setattr(recording, "_sign_rows", noted)


def _facility(n: int) -> dict[str, Any]:
    return {
        "name": f"Mill {n}",
        "country": "BD",
        "address": f"Plot {n}, Gazipur",
        "os_id": make_os_id("BD", f"{n:07d}", "TESTS"),
        "tier": 1 + n % 4,
        "worker_count": 100 + n,
    }


def test_signed_entries_are_this_process_s_and_all_are_stored(
    ledger: Ledger, brand: LocalAccount, signing: Signing
) -> None:
    bodies = [_facility(n) for n in range(10)]
    entries = ledger.record_many("facility", bodies, brand, issued_at=ISSUED_AT)

    domain = ledger.domain
    for body, entry in zip(bodies, entries, strict=True):
        model = kinds.parse_body("facility", body)
        # Signing is deterministic but for the salt: the same salt here gives the same bytes.
        assert entry == sign_entry(
            private_key=brand.key,
            domain=domain,
            kind="facility",
            subject=kinds.subject_for("facility", model, issuer=brand.address),
            body=kinds.canonical_body("facility", body),
            issued_at=ISSUED_AT,
            salt=entry.salt,
        )
        assert entry.recover(domain) == brand.address
    assert len({e.salt for e in entries}) == len(entries)
    stored = ledger.mirror.get_entries(e.id_hex for e in entries)
    assert [stored[e.id_hex]["body"] for e in entries] == [e.body for e in entries]
    assert ledger.mirror.counts()["entries"] == len(bodies)
    signing.check()


def test_a_bad_body_stores_nothing_and_is_named_by_its_row(
    ledger: Ledger, brand: LocalAccount, signing: Signing
) -> None:
    bodies = [_facility(n) for n in range(12)]
    bodies[9] = bodies[9] | {"country": "XX"}  # in the last chunk: earlier ones are stored
    with pytest.raises(InputError) as refused:
        ledger.record_many("facility", bodies, brand)
    message = str(refused.value)
    assert message.startswith("row 10: body.country: 'XX' is not an ISO 3166-1")
    assert "\n" not in message
    assert ledger.mirror.counts()["entries"] == 0
    signing.check()


def test_a_busy_machine_signs_here(
    ledger: Ledger, brand: LocalAccount, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(recording, "POOL_MIN_BODIES", 4)
    monkeypatch.setattr(recording, "spare_core", lambda: False)
    signing = Signing("here", tmp_path / "signers")
    _note_signers(signing, monkeypatch)
    entries = ledger.record_many("facility", [_facility(n) for n in range(10)], brand)
    assert ledger.mirror.counts()["entries"] == len(entries) == 10
    signing.check()
