"""Body schema v1: validation, canonical form, subjects and refs of every kind."""

from __future__ import annotations

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
