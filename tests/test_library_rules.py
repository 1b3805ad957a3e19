"""The rules behind the CLI's commands live in the library: each is callable without the
CLI, checks its input before any signer is asked for, and refuses bad input naming the field."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelp import PASSPHRASE
from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger import grievances
from labourledger.attesting import sign_attestation
from labourledger.audit_template import sign_finding_update
from labourledger.authority import role_granters
from labourledger.envelope import HashSigner, to_hex
from labourledger.errors import InputError
from labourledger.ledger import Ledger
from labourledger.roles import Naming, RoleHolder, grant_named, role_holders
from labourledger.suppliers import export_facility_csv
from labourledger.vocabulary import Claim, FindingStatus, VerificationMethod

pytestmark = pytest.mark.integration

MILL = {"name": "Coimbatore Spinning", "country": "IN", "address": "Avinashi Road", "tier": 3}


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    return Ledger.init(tmp_path_factory.mktemp("rules") / "ws", admin_passphrase=PASSPHRASE)


class Asked:
    """A signer callable that remembers the roles it was asked for."""

    def __init__(self, account: LocalAccount) -> None:
        self.account = account
        self.roles: list[str] = []

    def __call__(self, role: str) -> HashSigner:
        self.roles.append(role)
        return self.account


def _refused(call: Callable[[], object], field: str, asked: Asked) -> None:
    with pytest.raises(InputError, match=field):
        call()
    assert asked.roles == []  # refused before any signer (or passphrase) was asked for


def test_register_facility_checks_the_body_then_asks_for_a_brand(ledger: Ledger) -> None:
    asked = Asked(Account.create())
    _refused(lambda: ledger.register_facility(asked, **MILL | {"tier": 5}), "tier", asked)
    _refused(lambda: ledger.register_facility(asked, **MILL, operators=["0x12"]), "operators",
             asked)  # fmt: skip
    entry = ledger.register_facility(asked, **MILL, processing_types=["Spinning"])
    assert asked.roles == ["BRAND"]
    assert entry.issuer == asked.account.address
    assert entry.body["processing_types"] == ["Spinning"] and entry.body["operators"] == []
    assert ledger.mirror.facility(to_hex(entry.subject)) is not None  # stored, pending


def test_export_facility_csv_leaves_out_revoked_registrations(
    ledger: Ledger, tmp_path: Path
) -> None:
    brand = Account.create()
    kept = ledger.register_facility(brand, **MILL | {"name": "Kept Mill", "country": "VN"})
    gone = ledger.register_facility(brand, **MILL | {"name": "Gone Mill", "country": "VN"})
    ledger.record("revocation", {"target": to_hex(gone.entry_id), "reason": "duplicate"}, brand)
    path = tmp_path / "vn.csv"
    assert export_facility_csv(ledger, path, country="VN") == 1
    with path.open(newline="", encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["name"], row["tier"]) == (kept.body["name"], "3")
    assert export_facility_csv(ledger, path, country="VN", osh_only=True) == 1
    assert "tier" not in path.read_text().splitlines()[0]


def _audit(ledger: Ledger, auditor: LocalAccount) -> str:
    facility = to_hex(ledger.register_facility(Account.create(), **MILL).subject)
    body = {
        "facility": facility, "standard": "SMETA 4-pillar", "audit_type": "periodic",
        "notice": "announced", "start_date": "2026-03-10", "end_date": "2026-03-12",
        "workers_interviewed": 20,
        "findings": [{"id": "F-1", "severity": "major", "description": "Fees charged"}],
    }  # fmt: skip
    return to_hex(ledger.record("audit", body, auditor).entry_id)


def test_finding_update_names_a_finding_of_an_audit_and_defaults_to_today(
    ledger: Ledger, tmp_path: Path
) -> None:
    auditor = Account.create()
    audit_id = _audit(ledger, auditor)
    asked = Asked(auditor)
    closed = FindingStatus.CLOSED
    _refused(lambda: sign_finding_update(ledger, asked, audit_id, "F-9", status=closed),
             "finding 'F-9': not in audit", asked)  # fmt: skip
    facility_entry = to_hex(ledger.register_facility(Account.create(), **MILL).entry_id)
    _refused(lambda: sign_finding_update(ledger, asked, facility_entry, "F-1", status=closed),
             "not an audit", asked)  # fmt: skip
    _refused(lambda: sign_finding_update(ledger, asked, audit_id, "F-1", status=closed,
                                         note=" "), "note", asked)  # fmt: skip

    report = tmp_path / "photo.jpg"
    report.write_bytes(b"\xff\xd8 passports returned")
    with ledger.evidence_staged():
        entry = sign_finding_update(ledger, asked, audit_id, "F-1", status=closed,
                                    evidence=[report])  # fmt: skip
    assert asked.roles == ["AUDITOR"]
    assert entry.body["verified_on"] == dt.date.today().isoformat()
    assert entry.body["verification_method"] == VerificationMethod.ONSITE
    [ref] = entry.body["evidence"]
    assert (ledger.workspace.evidence_dir / ref["hash"][2:]).read_bytes() == report.read_bytes()
    assert ledger.mirror.get_entry(to_hex(entry.entry_id)) is None  # signed, not stored

    by_hand = sign_finding_update(ledger, auditor, audit_id, "F-1", status=closed,
                                  method=VerificationMethod.DESKTOP,
                                  verified_on=dt.date(2026, 5, 2))  # fmt: skip
    assert (by_hand.body["verified_on"], by_hand.body["evidence"]) == ("2026-05-02", [])


def test_attestation_asks_an_auditor_for_a_certificate_and_a_supplier_otherwise(
    ledger: Ledger,
) -> None:
    facility = to_hex(ledger.register_facility(Account.create(), **MILL).subject)
    year = {"valid_from": dt.date(2026, 1, 1), "valid_until": dt.date(2026, 12, 31)}
    asked = Asked(Account.create())
    _refused(lambda: sign_attestation(ledger, asked, facility, claim=Claim.CERTIFICATE, **year),
             "standard", asked)  # fmt: skip
    _refused(lambda: sign_attestation(ledger, asked, facility, claim=Claim.OTHER, **year),
             "statement", asked)  # fmt: skip
    backwards = {"valid_from": dt.date(2026, 1, 1), "valid_until": dt.date(2025, 1, 1)}
    _refused(lambda: sign_attestation(ledger, asked, facility, claim=Claim.FREEDOM_OF_MOVEMENT,
                                      **backwards), "valid_until", asked)  # fmt: skip
    unknown = "0x" + "cd" * 32
    _refused(lambda: sign_attestation(ledger, asked, unknown, claim=Claim.FREEDOM_OF_MOVEMENT,
                                      **year), "not registered|no facility", asked)  # fmt: skip

    sign_attestation(ledger, asked, facility, claim=Claim.CERTIFICATE, standard="SA8000",
                     certificate_number="SA-1", **year)  # fmt: skip
    declared = sign_attestation(ledger, asked, facility, claim=Claim.NO_RECRUITMENT_FEES, **year)
    assert asked.roles == ["AUDITOR", "SUPPLIER"]
    assert (declared.body["claim"], declared.body["valid_until"]) == (
        "no_recruitment_fees",
        "2026-12-31",
    )


def test_grant_named_checks_the_accreditation_before_the_transaction(ledger: Ledger) -> None:
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    auditor = Account.create().address
    unlocked: list[str] = []

    def unlock() -> LocalAccount:
        unlocked.append("admin")
        return admin

    for naming, field in (
        (Naming("Bureau Veritas", valid_until=dt.date(2020, 1, 1)), "valid_until"),
        (Naming(" "), "organisation"),
    ):
        with pytest.raises(InputError, match=field):
            grant_named(ledger, unlock, "AUDITOR", auditor, naming)
    with pytest.raises(InputError, match="role"):
        grant_named(ledger, unlock, "ADMIN", auditor, Naming("Bureau Veritas"))
    assert unlocked == [] and ledger.roles_of([auditor]) == {auditor: []}

    granted = grant_named(ledger, unlock, "auditor", auditor, Naming("Bureau Veritas", "BV-1"))
    assert (granted.role, unlocked, ledger.roles_of([auditor])[auditor]) == (
        "AUDITOR",
        ["admin"],
        ["AUDITOR"],
    )
    body = granted.accreditation.body
    assert (body["organisation"], body["accreditation_number"], body["valid_from"]) == (
        "Bureau Veritas",
        "BV-1",
        dt.date.today().isoformat(),
    )
    holders = role_holders(ledger)
    # Pending, the accreditation names nobody yet; the admin's key is named by the workspace.
    assert RoleHolder("AUDITOR", auditor, None, None) in holders
    assert RoleHolder("ADMIN", admin.address, "admin", None) in holders


def test_role_granters_is_the_contracts_rule(ledger: Ledger) -> None:
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    brand: LocalAccount = Account.create()
    ledger.chain.fund(brand.address, 10**18)
    assert role_granters("BRAND") == role_granters("AUDITOR") == ("ADMIN",)
    ledger.grant_role(admin, "BRAND", brand.address)
    assert role_granters("SUPPLIER") == ("BRAND",)
    supplier = Account.create().address
    with pytest.raises(InputError, match="may not grant SUPPLIER"):
        ledger.grant_role(admin, "SUPPLIER", supplier)  # an admin without BRAND may not
    ledger.grant_role(brand, "SUPPLIER", supplier)
    assert ledger.roles_of([supplier])[supplier] == ["SUPPLIER"]


def test_grievance_listing_selects_by_current_status_and_names_the_facility(
    ledger: Ledger,
) -> None:
    mill = ledger.register_facility(Account.create(), **MILL | {"name": "Heard Mill"})
    facility = to_hex(mill.subject)
    hotline = Account.create()
    for categories in (["wages"], ["harassment", "wages"]):
        grievances.record(ledger, hotline, facility=facility, received_month="2026-01",
                          channel="hotline", categories=categories, severity="major",
                          workers="2-5", report=b"report")  # fmt: skip
    with pytest.raises(InputError, match=r"status: expected one of .* or revoked"):
        grievances.listing(ledger, facility=facility, status="closed")

    found = grievances.listing(ledger, facility=facility)
    assert found.names == {facility: "Heard Mill"} and len(found.each) == 2
    [counted] = found.counts
    assert (counted.name, counted.total, counted.by_category) == (
        "Heard Mill",
        2,
        {"wages": 2, "harassment": 1},
    )
    assert len(grievances.listing(ledger, facility=facility, status="acknowledged").each) == 2
    judged = grievances.listing(ledger, facility=facility, status="substantiated")
    assert (judged.each, judged.counts) == ([], [])
    assert facility in grievances.listing(ledger).by_facility  # every facility held here
