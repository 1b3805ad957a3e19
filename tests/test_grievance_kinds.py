"""Grievance kinds (issue 13): what the schema lets a channel say, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest
from eth_utils import keccak

from labourledger import kinds
from labourledger.errors import InputError
from labourledger.kinds.grievances import (
    CATEGORIES,
    format_receipt,
    new_receipt,
    parse_receipt,
    receipt_commitment,
    report_commitment,
)

FACILITY = "0x" + "11" * 32
GRIEVANCE_ID = "0x" + "22" * 32
GRIEVANCE: dict[str, Any] = {
    "facility": FACILITY,
    "received_month": "2026-10",
    "channel": "hotline",
    "categories": ["withholding_of_wages"],
    "severity": "major",
    "workers": "2-5",
    "report_commitment": "0x" + "03" * 32,
    "receipt_commitment": "0x" + "04" * 32,
}
UPDATE: dict[str, Any] = {"grievance": GRIEVANCE_ID, "status": "substantiated", "month": "2026-11"}


def _refused(kind: str, base: dict[str, Any], **changes: Any) -> str:
    body = {**base, **changes}
    with pytest.raises(InputError) as error:
        kinds.parse_body(kind, body)
    return str(error.value)


@pytest.mark.parametrize("day", ["2026-10-14", "2026-10-14T09:30", "14/10/2026", "2026-13", "2026"])
def test_the_received_month_is_a_month_never_a_day(day: str) -> None:
    message = _refused("grievance", GRIEVANCE, received_month=day)
    assert message.startswith("body.received_month:") and "never records a day" in message
    assert _refused("grievance_update", UPDATE, month=day).startswith("body.month:")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "+8801711000000"),
        ("phone_number", "01711000000"),
        ("worker_name", "R. Begum"),
        ("description", "my supervisor took my passport"),
        ("note", "called at 9pm"),
        ("received_on", "2026-10-14"),
    ],
)
def test_no_field_can_hold_personal_data_or_free_text(field: str, value: str) -> None:
    assert _refused("grievance", GRIEVANCE, **{field: value}).startswith(f"body.{field}:")
    assert _refused("grievance_update", UPDATE, **{field: value}).startswith(f"body.{field}:")


def test_the_schema_exported_says_the_same() -> None:
    schema = kinds.json_schema("grievance")
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {
        "facility",
        "received_month",
        "channel",
        "categories",
        "severity",
        "workers",
        "report_commitment",
        "receipt_commitment",
    }
    for name, prop in schema["properties"].items():
        # Every field is a closed choice, a 32-byte hex commitment or a list of choices.
        assert prop.get("enum") or prop.get("pattern") or prop.get("items") or "$ref" in prop, name
    assert kinds.json_schema("grievance_update")["additionalProperties"] is False


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "email"),
        ("categories", ["overwork"]),
        ("categories", []),
        ("categories", ["wages", "wages"]),
        ("severity", "serious"),
        ("workers", "3"),
        ("workers", 3),
        ("report_commitment", "my report"),
        ("receipt_commitment", "7QKD-M3ZP-W9TX-4B2H"),
        ("facility", "Knit Fabric Mill"),
    ],
)
def test_closed_choices_refuse_anything_else(field: str, value: Any) -> None:
    assert _refused("grievance", GRIEVANCE, **{field: value}).startswith(f"body.{field}")


def test_categories_are_the_ilo_indicators_and_six_more() -> None:
    assert CATEGORIES[:11] == kinds.ILO_INDICATORS
    assert CATEGORIES[11:] == (
        "wages",
        "health_and_safety",
        "harassment",
        "discrimination",
        "freedom_of_association",
        "child_labour",
    )
    body = kinds.canonical_body("grievance", {**GRIEVANCE, "categories": list(CATEGORIES)})
    assert body["categories"] == list(CATEGORIES)
    for band in ("1", "2-5", "6-20", "21+"):
        kinds.parse_body("grievance", {**GRIEVANCE, "workers": band})
    for status in ("acknowledged", "under_investigation", "unsubstantiated", "withdrawn"):
        kinds.parse_body("grievance_update", {**UPDATE, "status": status})
    assert _refused("grievance_update", UPDATE, status="closed").startswith("body.status:")


def test_subject_and_refs() -> None:
    grievance = kinds.parse_body("grievance", GRIEVANCE)
    facility = bytes.fromhex(FACILITY[2:])
    assert kinds.subject_for("grievance", grievance, issuer="0x" + "aa" * 20) == facility
    assert kinds.refs_for("grievance", grievance) == [facility]
    update = kinds.parse_body("grievance_update", {**UPDATE, "evidence": ["0x" + "05" * 32]})
    target = bytes.fromhex(GRIEVANCE_ID[2:])
    assert kinds.subject_for("grievance_update", update, issuer="0x" + "aa" * 20) == target
    assert kinds.refs_for("grievance_update", update) == [target]


def test_receipt_codes_read_out_and_back() -> None:
    secret = bytes.fromhex("3dcd6a0ff5e4f755c4a2")
    code = format_receipt(secret)
    assert len(code) == 19 and code.count("-") == 3
    assert all(c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ-" for c in code)
    assert parse_receipt(code) == secret
    # Read over a phone or written by hand: any case, spaces, O for 0, I and L for 1.
    sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert parse_receipt(sloppy) == secret
    assert format_receipt(bytes(10)) == "0000-0000-0000-0000"
    assert format_receipt(b"\xff" * 10) == "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
    fresh = {new_receipt() for _ in range(50)}
    assert len(fresh) == 50 and all(len(s) == 10 for s in fresh)


@pytest.mark.parametrize("code", ["7QKD-M3ZP-W9TX", "7QKD-M3ZP-W9TX-4B2H-0", "7QKD-M3ZP-W9TX-4B2U"])
def test_a_malformed_code_is_refused_without_echoing_it(code: str) -> None:
    with pytest.raises(InputError) as error:
        parse_receipt(code)
    assert code not in str(error.value) and "Crockford" in str(error.value)


def test_commitments() -> None:
    secret = bytes(range(10))
    assert receipt_commitment(secret) == "0x" + keccak(b"labourledger-receipt:" + secret).hex()
    salt = bytes(32)
    assert report_commitment(salt, b"report") == "0x" + keccak(salt + b"report").hex()
    with pytest.raises(InputError, match="32 bytes"):
        report_commitment(b"short", b"report")
