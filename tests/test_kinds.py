"""Body schema v1: validation, canonical form, subjects and refs of every kind."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_utils import keccak

from labourledger import kinds
from labourledger.errors import InputError

F1, F2, P, B1, B2, B3, A = ("0x" + f"{i:064x}" for i in range(1, 8))
BRAND = "0x" + "aa" * 20
OTHER = "0x" + "bb" * 20
REF = {
    "name": "payroll.pdf",
    "media_type": "application/pdf",
    "size": 10,
    "salt": "0x" + "01" * 32,
    "hash": "0x" + "02" * 32,
}

VALID: dict[str, dict[str, Any]] = {
    "facility": {
        "name": "Tiruppur Cotton Mills",
        "country": "in",
        "address": "SIDCO Estate",
        "os_id": "in2024002ctnm1h",
        "facility_type": "Textile or Material Production",
        "processing_types": ["Spinning"],
        "tier": 2,
        "worker_count": 820,
    },
    "supply_link": {"supplier": F1, "buyer": F2, "material": "yarn", "valid_from": "2025-01-01"},
    "attestation": {
        "facility": F1,
        "claim": "certificate",
        "standard": "SA8000",
        "certificate_number": "SA-123",
        "valid_from": "2025-01-01",
        "valid_until": "2027-12-31",
        "evidence": [REF],
    },
    "audit": {
        "facility": F1,
        "standard": "SMETA 4-pillar",
        "audit_type": "periodic",
        "notice": "semi_announced",
        "start_date": "2025-03-01",
        "end_date": "2025-03-03",
        "workers_interviewed": 40,
        "findings": [
            {
                "id": "F-1",
                "clause": "ETI 1.3",
                "ilo_indicators": ["retention_of_identity_documents"],
                "severity": "critical",
                "description": "Passports held by the dormitory warden",
                "corrective_action": {"action": "Return passports", "due_date": "2025-04-01"},
            }
        ],
    },
    "finding_update": {
        "audit": A,
        "finding_id": "F-1",
        "status": "closed",
        "verification_method": "onsite",
        "verified_on": "2025-04-10",
    },
    "product": {
        "gtin": "4006381333931",
        "name": "Organic tee",
        "brand": "Acme",
        "hs_code": "610910",
    },
    "batch": {
        "product": P,
        "lot": "L-7",
        "quantity": 1200,
        "produced_at": "2025-05-01",
        "facility": F1,
    },
    "transformation": {
        "inputs": [B1, B2],
        "output": B3,
        "facility": F2,
        "date": "2025-05-02",
        "documents": [REF | {"type": "invoice", "number": "INV-9"}],
    },
    "revocation": {"target": A, "reason": "issued with the wrong facility"},
    "grievance": {
        "facility": F1,
        "received_month": "2026-10",
        "channel": "hotline",
        "categories": ["withholding_of_wages", "wages"],
        "severity": "major",
        "workers": "2-5",
        "report_commitment": "0x" + "03" * 32,
        "receipt_commitment": "0x" + "04" * 32,
    },
    "grievance_update": {"grievance": A, "status": "substantiated", "month": "2026-11"},
    "accreditation": {
        "account": OTHER,
        "organisation": "Bureau Veritas",
        "role": "AUDITOR",
        "accreditation_number": "BV-IN-0117",
        "valid_from": "2026-01-01",
        "valid_until": "2027-12-31",
    },
}


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_every_kind_accepts_a_valid_body(kind: str) -> None:
    body = kinds.canonical_body(kind, VALID[kind])
    assert kinds.canonical_body(kind, body) == body  # canonical form is a fixed point
    assert kinds.json_schema(kind)["type"] == "object"


def test_canonical_body_normalises_and_drops_absent_optionals() -> None:
    body = kinds.canonical_body("facility", VALID["facility"])
    assert (body["country"], body["os_id"]) == ("IN", "IN2024002CTNM1H")
    assert "gln" not in body and body["processing_types"] == ["Spinning"]


def _bad(kind: str, **changes: Any) -> str:
    body = {k: v for k, v in {**VALID[kind], **changes}.items() if v is not None}
    with pytest.raises(InputError) as error:
        kinds.parse_body(kind, body)
    message = str(error.value)
    assert "\n" not in message
    return message


def test_rejections_name_the_field() -> None:
    assert _bad("facility", country="XX").startswith("body.country:")
    assert _bad("facility", colour="red").startswith("body.colour:")
    assert _bad("facility", tier=5).startswith("body.tier:")
    assert "not both" in _bad("facility", worker_band="501-1000")
    assert "before" in _bad("supply_link", valid_to="2024-12-31")
    assert "different" in _bad("supply_link", buyer=F1)
    assert "certificate_number" in _bad("attestation", certificate_number=None)
    assert "unique" in _bad("audit", findings=VALID["audit"]["findings"] * 2)
    assert "before" in _bad("audit", end_date="2025-02-01")
    assert "own input" in _bad("transformation", output=B1)
    assert _bad("audit", notice="surprise").startswith("body.notice:")
    assert "statement" in _bad("attestation", claim="other")
    assert "gtin or a sku" in _bad("product", gtin=None)
    assert _bad("product", gtin="4006381333932").startswith("body.gtin:")
    assert "kind" in _bad_kind()


@pytest.mark.parametrize(
    ("kind", "changes", "where"),
    [
        ("facility", {"worker_band": "501-1000"}, "body.worker_band:"),
        ("supply_link", {"valid_to": "2024-12-31"}, "body.valid_to:"),
        ("supply_link", {"buyer": F1}, "body.buyer:"),
        ("attestation", {"certificate_number": None}, "body.certificate_number:"),
        ("audit", {"end_date": "2025-02-01"}, "body.end_date:"),
        ("audit", {"valid_until": "2025-03-02"}, "body.valid_until:"),
        ("audit", {"standard": "other"}, "body.standard_other:"),
        ("transformation", {"output": B1}, "body.output:"),
        ("transformation", {"inputs": [B1, B1]}, "body.inputs:"),
        ("supply_link", {"supplier": "0x1234"}, "body.supplier:"),
        ("facility", {"os_id": "CN2019303BQ3FZQ"}, "body.os_id:"),
        ("facility", {"gln": "4006381333932"}, "body.gln:"),
        ("facility", {"lei": "5493001KJTIIGC8Y1R13"}, "body.lei:"),
        ("facility", {"name": "   "}, "body.name:"),
    ],
)
def test_cross_field_rejections_name_the_field_at_fault(
    kind: str, changes: dict[str, Any], where: str
) -> None:
    assert _bad(kind, **changes).startswith(where)


def test_nested_errors_carry_the_full_path() -> None:
    finding = VALID["audit"]["findings"][0]
    twice = {**finding, "ilo_indicators": ["deception", "deception"]}
    assert _bad("audit", findings=[twice]).startswith("body.findings[0].ilo_indicators:")
    unknown = {**finding, "ilo_indicators": ["overwork"]}
    assert _bad("audit", findings=[unknown]).startswith("body.findings[0].ilo_indicators[0]:")


def test_error_stays_on_one_line_and_counts_the_rest() -> None:
    message = _bad("facility", country="X\nY", tier=9)
    assert message.startswith("body.country:") and message.endswith("(and 1 more)")


def test_a_body_that_is_not_an_object_is_an_input_error() -> None:
    with pytest.raises(InputError, match="JSON object"):
        kinds.parse_body("revocation", ["not", "a", "mapping"])  # type: ignore[arg-type]


def test_hex_ids_are_lowercased_in_the_canonical_body() -> None:
    body = kinds.canonical_body("revocation", {"target": "0x" + "AB" * 32, "reason": "x"})
    assert body["target"] == "0x" + "ab" * 32


def test_subject_for_refuses_a_model_of_another_kind() -> None:
    product = kinds.parse_body("product", VALID["product"])
    with pytest.raises(InputError, match="kind"):
        kinds.subject_for("facility", product, issuer=BRAND)
    with pytest.raises(InputError, match="kind"):
        kinds.refs_for("batch", product)


def test_subjects_and_refs_of_the_other_kinds() -> None:
    def subject(kind: str) -> bytes:
        return kinds.subject_for(kind, kinds.parse_body(kind, VALID[kind]), issuer=BRAND)

    def refs(kind: str) -> list[bytes]:
        return kinds.refs_for(kind, kinds.parse_body(kind, VALID[kind]))

    raw = {name: bytes.fromhex(h[2:]) for name, h in {"F1": F1, "F2": F2, "P": P, "A": A}.items()}
    assert subject("supply_link") == keccak(b"link:" + raw["F1"] + raw["F2"] + b"yarn")
    assert refs("supply_link") == [raw["F1"], raw["F2"]]
    assert subject("attestation") == raw["F1"] and refs("attestation") == [raw["F1"]]
    assert subject("finding_update") == raw["A"] and refs("finding_update") == [raw["A"]]
    assert subject("batch") == keccak(b"batch:" + raw["P"] + b":L-7")
    assert refs("batch") == [raw["P"], raw["F1"]]
    assert subject("revocation") == raw["A"] and refs("revocation") == [raw["A"]]
    assert subject("product") == keccak(b"product:" + BRAND.encode() + b":gtin:4006381333931")
    assert subject("product") != kinds.subject_for(
        "product", kinds.parse_body("product", VALID["product"]), issuer=OTHER
    )
    assert refs("facility") == []
    # Every accreditation of one account shares its subject, whoever signed it.
    assert subject("accreditation") == keccak(b"account:" + OTHER.lower().encode())
    assert refs("accreditation") == []
    assert all(len(r) == 32 for kind in kinds.KINDS for r in refs(kind))


def test_exported_vocabularies() -> None:
    assert kinds.SCHEMA_VERSION == 1
    assert len(kinds.ILO_INDICATORS) == 11 and len(set(kinds.ILO_INDICATORS)) == 11
    assert kinds.SEVERITIES[0] == "zero_tolerance" and kinds.SEVERITIES[-1] == "observation"
    assert set(kinds.TIER_BY_TYPE) == set(kinds.FACILITY_TYPES)
    assert kinds.TIER_BY_TYPE["Raw Material Processing or Production"] == 4


def _bad_kind() -> str:
    with pytest.raises(InputError) as error:
        kinds.parse_body("invoice", {})
    return str(error.value)


def test_subjects() -> None:
    facility = kinds.parse_body("facility", VALID["facility"])
    shared = kinds.subject_for("facility", facility, issuer=BRAND)
    assert shared == kinds.subject_for("facility", facility, issuer=OTHER)
    assert shared == keccak(b"os:IN2024002CTNM1H")
    no_os = kinds.parse_body(
        "facility", {k: v for k, v in VALID["facility"].items() if k != "os_id"}
    )
    assert kinds.subject_for("facility", no_os, issuer=BRAND) != kinds.subject_for(
        "facility", no_os, issuer=OTHER
    )
    audit = kinds.parse_body("audit", VALID["audit"])
    assert kinds.subject_for("audit", audit, issuer=BRAND) == bytes.fromhex(F1[2:])


def test_refs_of_a_transformation_cover_inputs_output_and_facility() -> None:
    model = kinds.parse_body("transformation", VALID["transformation"])
    assert kinds.refs_for("transformation", model) == [
        bytes.fromhex(h[2:]) for h in (B1, B2, B3, F2)
    ]
    assert kinds.refs_for("product", kinds.parse_body("product", VALID["product"])) == []


def test_evidence_reference_detects_a_changed_file(tmp_path: Path) -> None:
    payroll = tmp_path / "payroll.pdf"
    payroll.write_bytes(b"%PDF-1.7 wages paid in full")
    ref = kinds.evidence_ref(payroll)
    assert ref.media_type == "application/pdf" and ref.size == payroll.stat().st_size
    assert kinds.evidence_matches(ref, payroll.read_bytes())
    assert not kinds.evidence_matches(ref, b"%PDF-1.7 wages paid in part")
    assert kinds.evidence_ref(payroll).hash != ref.hash  # a fresh salt each time


def test_evidence_reference_with_a_given_salt_is_reproducible(tmp_path: Path) -> None:
    blob = tmp_path / "photo.unknownext"
    blob.write_bytes(b"\x00\x01")
    salt = bytes(range(32))
    ref = kinds.evidence_ref(blob, salt=salt)
    assert ref.media_type == "application/octet-stream" and ref.salt == "0x" + salt.hex()
    assert ref.hash == "0x" + keccak(salt + b"\x00\x01").hex()
    assert kinds.evidence_ref(blob, "image/jpeg", salt).media_type == "image/jpeg"
    with pytest.raises(InputError, match="32 bytes"):
        kinds.evidence_ref(blob, salt=b"short")
    with pytest.raises(InputError, match="cannot read"):
        kinds.evidence_ref(tmp_path / "missing.pdf")


_DATES = [
    (kind, field)
    for kind, body in sorted(VALID.items())
    for field, value in body.items()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)
]


@pytest.mark.parametrize(("kind", "field"), _DATES)
def test_a_date_given_as_a_number_is_refused_not_read_as_unix_time(kind: str, field: str) -> None:
    # Pydantic takes 86,400 for 1970-01-02: a body must write its days as YYYY-MM-DD.
    expected = f"body.{field}: expected a date as YYYY-MM-DD, not a number"
    assert _bad(kind, **{field: 86_400}) == expected
    assert _bad(kind, **{field: 0.0}).endswith("not a number")
