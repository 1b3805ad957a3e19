"""The rules behind the CLI's commands live in the library: each is callable without the
CLI, checks its input before any signer is asked for, and refuses bad input naming the field."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from clihelp import PASSPHRASE
from eth_account import Account
from eth_account.signers.local import LocalAccount

from labourledger import grievances
from labourledger.attesting import sign_attestation
from labourledger.audit_template import EvidenceFor, sign_audit, sign_finding_update
from labourledger.authority import role_granters
from labourledger.bundling import verify_bundle, write_bundle
from labourledger.chain.compile import build_contract
from labourledger.digital_link import check_base_url, write_batch_qr
from labourledger.envelope import HashSigner, to_hex
from labourledger.epcis import write_document
from labourledger.errors import InputError
from labourledger.identifiers import make_os_id
from labourledger.ledger import Ledger
from labourledger.links import record_link
from labourledger.opening import makes_admin_key
from labourledger.provenance import Document, record_batch, record_product, record_transformation
from labourledger.report import export_report
from labourledger.roles import Naming, RoleHolder, grant_named, role_holders
from labourledger.schemas import schema_of
from labourledger.suppliers import export_facility_csv
from labourledger.vocabulary import Claim, FindingStatus, MissingAudit, VerificationMethod

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
    before = list(asked.roles)
    with pytest.raises(InputError, match=field):
        call()
    assert asked.roles == before  # refused before any signer (or passphrase) was asked for


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


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ({"since": "2026-3-1"}, "since: expected a date such as 2026-03-01, got '2026-3-1'"),
        ({"until": "yesterday"}, "until: expected a date"),
        ({"status": "opne"}, "filter.status: 'opne' is not one of: 'open'"),
        ({"severity": "huge"}, "filter.severity"),
        ({"indicator": "debt"}, "filter.indicator"),
    ],
)
def test_audit_filters_are_refused_rather_than_matching_nothing(
    ledger: Ledger, filters: dict[str, str], says: str
) -> None:
    with pytest.raises(InputError, match=re.escape(says)):
        ledger.audits(**filters)
    assert ledger.audits(since="2026-03-01", until=dt.date(2026, 12, 31), status="open") == []


def test_facility_filters_are_refused_rather_than_matching_nothing(ledger: Ledger) -> None:
    with pytest.raises(InputError, match="country: 'India' is not an ISO 3166-1"):
        ledger.facilities(country="India")
    with pytest.raises(InputError, match="facility_type: 'final product assembly' is not one of"):
        ledger.facilities(facility_type="final product assembly")
    assert ledger.facilities(country="in", facility_type="Final Product Assembly") == [
        f for f in ledger.facilities(country="IN") if f.facility_type == "Final Product Assembly"
    ]


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


def _audit_body(ledger: Ledger) -> dict[str, object]:
    facility = to_hex(ledger.register_facility(Account.create(), **MILL).subject)
    return {
        "facility": facility, "standard": "SMETA 4-pillar", "audit_type": "periodic",
        "notice": "announced", "start_date": "2026-03-10", "end_date": "2026-03-12",
        "workers_interviewed": 20,
        "findings": [{"id": "F-1", "severity": "major", "description": "Fees charged"}],
    }  # fmt: skip


def _audit(ledger: Ledger, auditor: LocalAccount) -> str:
    return to_hex(ledger.record("audit", _audit_body(ledger), auditor).entry_id)


def test_sign_audit_reads_the_template_and_attaches_evidence_where_it_belongs(
    ledger: Ledger, tmp_path: Path
) -> None:
    template, photo = tmp_path / "audit.json", tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8 hostel")
    asked = Asked(Account.create())
    body = _audit_body(ledger)
    template.write_text(json.dumps({"body": body | {"workers_interviewed": -1}}))
    _refused(lambda: sign_audit(ledger, asked, template), "workers_interviewed", asked)
    template.write_text(json.dumps({"body": body | {"clause": ""}}))  # empty means not given
    kept = set(ledger.workspace.evidence_dir.glob("*"))
    with pytest.raises(InputError, match="no finding 'F-9'"), ledger.evidence_staged():
        sign_audit(ledger, asked, template, [EvidenceFor(photo, "F-9")])
    assert asked.roles == [] and set(ledger.workspace.evidence_dir.glob("*")) == kept

    with ledger.evidence_staged():
        entry = sign_audit(ledger, asked, template, [EvidenceFor(photo, "F-1")], issued_at=1)
    assert (asked.roles, entry.issued_at, entry.body.get("evidence")) == (["AUDITOR"], 1, [])
    assert len(entry.body["findings"][0]["evidence"]) == 1


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
    # Verified before the audit ended (2026-03-12), or after the day it is signed: refused.
    late = dt.date.today() + dt.timedelta(days=2)
    for day, why in ((dt.date(2026, 3, 11), "before the audit ended"), (late, "after the day")):
        sign = functools.partial(sign_finding_update, ledger, asked, audit_id, "F-1")
        _refused(lambda s=sign, d=day: s(status=closed, verified_on=d), f"verified_on: .*{why}",
                 asked)  # fmt: skip
    sign_finding_update(ledger, auditor, audit_id, "F-1", status=closed,
                        verified_on=dt.date(2026, 3, 12))  # fmt: skip

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
    # A self-declaration naming a standard would read as a certificate.
    _refused(lambda: sign_attestation(ledger, asked, facility, claim=Claim.NO_EXCESSIVE_OVERTIME,
                                      certificate_number="SA-1", **year),
             "^certificate_number: only a certificate names one", asked)  # fmt: skip
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


def test_a_facility_s_attestations_are_found_by_its_os_id_too(ledger: Ledger) -> None:
    os_id = make_os_id("IN", "2024117", "00117")
    facility = to_hex(ledger.register_facility(Account.create(), **MILL, os_id=os_id).subject)
    year = {"valid_from": dt.date(2026, 1, 1), "valid_until": dt.date(2026, 12, 31)}
    ledger.store([sign_attestation(ledger, Asked(Account.create()), facility,
                                   claim=Claim.FREEDOM_OF_MOVEMENT, **year)])  # fmt: skip
    [by_id] = ledger.attestations(facility.upper().replace("0X", "0x"))
    assert ledger.attestations(os_id) == [by_id] and by_id.claim == "freedom_of_movement"
    with pytest.raises(InputError, match=r"^facility IN.*: not an OS id \(.*15 characters"):
        ledger.attestations(os_id[:-1])


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
    # Granted already: named again (a new accreditation), no transaction.
    again = grant_named(ledger, unlock, "AUDITOR", auditor, Naming("Bureau Veritas", "BV-2"))
    assert again.tx_hash is None and again.accreditation.body["accreditation_number"] == "BV-2"
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
    # A grant or revocation that would change nothing is refused before it is sent.
    sent = ledger.chain.w3.eth.block_number
    with pytest.raises(InputError, match="holds SUPPLIER already; nothing sent"):
        ledger.grant_role(brand, "SUPPLIER", supplier)
    with pytest.raises(InputError, match="does not hold AUDITOR; nothing sent"):
        ledger.revoke_role(admin, "AUDITOR", supplier)
    assert ledger.chain.w3.eth.block_number == sent
    # A brand may grant SUPPLIER, but only an admin's accreditation names an organisation:
    # refused before the grant is sent, rather than signed to count for nothing.
    other = Account.create().address
    with pytest.raises(InputError, match=r"naming: issuer .* holds no ADMIN role"):
        grant_named(ledger, brand, "SUPPLIER", other, Naming("Tiruppur Cotton Mills"))
    assert ledger.roles_of([other])[other] == []


def test_the_last_admin_is_kept(tmp_path: Path) -> None:
    ledger = Ledger.init(tmp_path / "ws", admin_passphrase=PASSPHRASE)
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    with pytest.raises(InputError, match=f"role: {admin.address} is the contract's only ADMIN"):
        ledger.revoke_role(admin, "ADMIN", admin.address)
    successor = Account.create().address
    ledger.grant_role(admin, "ADMIN", successor)
    ledger.revoke_role(admin, "ADMIN", admin.address)  # another admin remains: allowed
    assert ledger.roles_of([admin.address, successor]) == {
        admin.address: [],
        successor: ["ADMIN"],
    }


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


def test_products_batches_and_transformations_are_checked_before_signing(
    ledger: Ledger, tmp_path: Path
) -> None:
    asked = Asked(Account.create())
    _refused(lambda: record_product(ledger, asked, name="Tee", brand="Acme"), "gtin or a sku",
             asked)  # fmt: skip
    record_product(ledger, asked, name="Yarn", brand="Acme", sku="YARN-LIB")
    facility = to_hex(ledger.register_facility(Account.create(), **MILL).subject)
    made = dt.date(2026, 4, 1)
    batch = {"product": "YARN-LIB", "quantity": 10, "produced_at": made, "facility": facility}
    _refused(lambda: record_batch(ledger, asked, **batch | {"product": "NOPE"}, lot="Y-0"),
             "product NOPE: not found", asked)  # fmt: skip
    _refused(lambda: record_batch(ledger, asked, **batch | {"quantity": 0}, lot="Y-0"),
             "quantity", asked)  # fmt: skip
    for lot in ("Y-LIB-1", "Y-LIB-2"):
        record_batch(ledger, asked, **batch, lot=lot)
    assert asked.roles == ["BRAND"] * 3
    # The same lot of the same product again would give one batch two productions.
    _refused(lambda: record_batch(ledger, asked, **batch | {"quantity": 5}, lot="Y-LIB-1"),
             "lot: batch Y-LIB-1 of this product is registered already", asked)  # fmt: skip

    asked.roles.clear()
    move = {"output": "Y-LIB-2", "facility": facility, "date": made}
    _refused(lambda: record_transformation(ledger, asked, inputs=["Y-LIB-2"], **move),
             "own input", asked)  # fmt: skip
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF invoice 9")
    with ledger.evidence_staged():
        invoices = [Document("invoice", invoice, "INV-9")]
        entry = record_transformation(ledger, asked, inputs=["Y-LIB-1"], **move, documents=invoices)
    assert asked.roles == ["BRAND"]
    [doc] = entry.body["documents"]
    assert (doc["type"], doc["number"], doc["name"]) == ("invoice", "INV-9", "invoice.pdf")
    assert (ledger.workspace.evidence_dir / doc["hash"][2:]).read_bytes() == invoice.read_bytes()


def test_a_bundle_is_verified_under_the_default_policy_and_this_runs_overrides(
    ledger: Ledger,
) -> None:
    admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
    farm = to_hex(ledger.register_facility(admin, **MILL | {"name": "Farm", "tier": 4}).subject)
    record_product(ledger, admin, name="Cotton", brand="Acme", sku="COT-LIB")
    record_batch(ledger, admin, product="COT-LIB", lot="C-LIB", quantity=9,
                 produced_at=dt.date(2026, 4, 1), facility=farm)  # fmt: skip
    ledger.anchor(admin)
    bundle = ledger.export_bundle("C-LIB")
    default = verify_bundle(bundle, ledger.chain)
    [unaudited] = [c for c in default["checks"] if c["check"] == "audit_valid"]
    assert unaudited["outcome"] == "attention"  # the default policy: no audit needs attention
    strict = verify_bundle(
        bundle, ledger.chain, missing_audit=MissingAudit.FAIL, required_tier=None
    )
    assert strict["verdict"] == "FAIL"
    with pytest.raises(InputError, match="audit_validity_months"):
        verify_bundle(bundle, ledger.chain, audit_validity_months=0)


def test_a_batch_qr_code_carries_its_digital_link(ledger: Ledger, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="base_url: expected an http"):
        check_base_url("verify.example.com")
    for bad, says in (
        ("http://", "expected an http(s) URL with a host"),
        ("https://verify.example.com/?src=qr", "a query or fragment would end up before"),
        ("https://verify.example.com#top", "a query or fragment would end up before"),
        ("https://verify example.com", "a URL has no spaces"),
    ):
        with pytest.raises(InputError) as refused:
            check_base_url(bad)
        assert str(refused.value).startswith(f"base_url: {says}"), refused.value
    assert check_base_url("https://verify.example.com/acme") == "https://verify.example.com/acme"
    brand = Account.create()
    mill = to_hex(ledger.register_facility(brand, **MILL).subject)
    record_product(ledger, brand, name="Tee", brand="Acme", gtin="4006381333931")
    record_product(ledger, brand, name="Sample", brand="Acme", sku="SAMPLE-LIB")
    for product, lot in (("4006381333931", "T 7"), ("SAMPLE-LIB", "S-LIB")):
        record_batch(ledger, brand, product=product, lot=lot, quantity=5,
                     produced_at=dt.date(2026, 4, 1), facility=mill)  # fmt: skip
    root, code = ledger.workspace.root, tmp_path / "qr.svg"
    with pytest.raises(InputError, match="base_url"):
        write_batch_qr(root, "T 7", "ftp://verify.example.com", code)
    assert not code.exists()
    link = write_batch_qr(root, "T 7", "https://verify.example.com/", code)
    assert link.url == "https://verify.example.com/01/04006381333931/10/T%207"
    assert link.gtin == "4006381333931" and "<svg" in code.read_text()
    plain = write_batch_qr(root, "S-LIB", "https://verify.example.com", tmp_path / "s.png")
    assert (plain.url, plain.gtin) == ("https://verify.example.com/batches/S-LIB", None)


def test_exports_are_written_whole_or_not_at_all(ledger: Ledger, tmp_path: Path) -> None:
    brand = Account.create()
    farm = to_hex(ledger.register_facility(brand, **MILL | {"name": "Export Farm"}).subject)
    record_product(ledger, brand, name="Cotton", brand="Acme", sku="COT-EXP")
    record_batch(ledger, brand, product="COT-EXP", lot="C-EXP", quantity=3,
                 produced_at=dt.date(2026, 4, 1), facility=farm)  # fmt: skip
    nowhere = tmp_path / "missing" / "out.json"
    with pytest.raises(InputError, match="cannot write"):
        write_bundle(ledger, "C-EXP", nowhere)
    bundle = write_bundle(ledger, "C-EXP", tmp_path / "bundle.json")
    written = json.loads((tmp_path / "bundle.json").read_text())
    assert len(written["entries"]) == len(bundle.entries) == 3  # product, batch, facility
    document = write_document(ledger, "C-EXP", tmp_path / "lineage.jsonld")
    assert json.loads((tmp_path / "lineage.jsonld").read_text()) == document
    assert len(document["epcisBody"]["eventList"]) == 1
    with pytest.raises(InputError, match="cannot write"):
        write_document(ledger, "C-EXP", nowhere)
    report = export_report(ledger, "C-EXP", tmp_path / "report.html")
    assert report["verdict"] in (tmp_path / "report.html").read_text()
    assert not list(tmp_path.glob(".*partial"))
    # A facility's id where a batch's belongs is refused, named as what it is.
    for write in (write_bundle, write_document):
        with pytest.raises(InputError, match=f"batch {farm}: the id of a facility here"):
            write(ledger, farm, tmp_path / "ghost.json")
    assert not (tmp_path / "ghost.json").exists()


def test_init_makes_an_admin_key_on_the_embedded_chain_unless_attaching(tmp_path: Path) -> None:
    assert makes_admin_key("embedded", None)
    assert not makes_admin_key("embedded", "0x" + "12" * 20)
    assert not makes_admin_key("http://127.0.0.1:8545", None)
    with pytest.raises(InputError, match="passphrase for the admin key"):
        Ledger.init(tmp_path / "ws")
    assert not (tmp_path / "ws").exists()


def test_building_the_contract_needs_its_source(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"source: .* not found"):
        build_contract(tmp_path / "LabourLedger.sol", tmp_path / "out" / "LabourLedger.json")
    assert not (tmp_path / "out").exists()


def test_schema_of_a_published_format_or_an_entry_kind() -> None:
    assert schema_of("trace")["$id"] == "urn:labourledger:schema:trace:1"
    assert "findings" in schema_of("audit")["properties"]
    with pytest.raises(InputError, match=r"published format \(entry-file.*entry kind \(facility"):
        schema_of("invoice")


def test_a_supply_link_is_checked_before_a_brand_is_asked_for(ledger: Ledger) -> None:
    brand = Account.create()
    mill, knitter = (
        to_hex(ledger.register_facility(brand, **MILL | {"name": name}).subject)
        for name in ("Link Mill", "Link Knitter")
    )
    asked = Asked(brand)
    yarn = {"supplier": mill, "material": "yarn"}
    _refused(lambda: record_link(ledger, asked, buyer=mill, **yarn), "buyer", asked)
    _refused(lambda: record_link(ledger, asked, buyer=knitter, **yarn,
                                 valid_to=dt.date(2000, 1, 1)), "valid_to", asked)  # fmt: skip
    entry = record_link(ledger, asked, buyer=knitter, **yarn)
    assert asked.roles == ["BRAND"]
    assert entry.body["valid_from"] == dt.date.today().isoformat() and "valid_to" not in entry.body
