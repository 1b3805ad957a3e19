"""Entry kinds: body validation, canonical form, subject and refs of each kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from labourledger.envelope import canonical_json
from labourledger.errors import InputError, invalid_input
from labourledger.hashing import keccak256
from labourledger.kinds.accreditation import Accreditation, account_subject
from labourledger.kinds.grievances import Grievance, GrievanceUpdate
from labourledger.kinds.models import (
    FACILITY_TYPES,
    ILO_INDICATORS,
    SEVERITIES,
    TIER_BY_TYPE,
    WORKER_BAND,
    Attestation,
    Audit,
    Batch,
    EvidenceRef,
    Facility,
    Finding,
    FindingUpdate,
    Product,
    Revocation,
    SupplyLink,
    Transformation,
    address,
    evidence_matches,
    evidence_ref,
)

__all__ = [
    "FACILITY_TYPES",
    "ILO_INDICATORS",
    "KINDS",
    "SCHEMA_VERSION",
    "SEVERITIES",
    "TIER_BY_TYPE",
    "WORKER_BAND",
    "EvidenceRef",
    "Finding",
    "canonical_body",
    "checksum_address",
    "evidence_matches",
    "evidence_ref",
    "json_schema",
    "operators_named",
    "parse_body",
    "refs_for",
    "subject_for",
]

SCHEMA_VERSION = 1
KINDS: dict[str, type[BaseModel]] = {
    "facility": Facility,
    "supply_link": SupplyLink,
    "attestation": Attestation,
    "audit": Audit,
    "finding_update": FindingUpdate,
    "product": Product,
    "batch": Batch,
    "transformation": Transformation,
    "revocation": Revocation,
    "grievance": Grievance,
    "grievance_update": GrievanceUpdate,
    "accreditation": Accreditation,
}


def _model(kind: str) -> type[BaseModel]:
    try:
        return KINDS[kind]
    except KeyError:
        raise InputError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}") from None


def parse_body(kind: str, body: Mapping[str, Any]) -> BaseModel:
    """Validate a body; InputError on one line naming the first bad field."""
    model = _model(kind)
    if not isinstance(body, Mapping):
        raise InputError(f"body: expected a JSON object, got {type(body).__name__}")
    try:
        return model.model_validate(dict(body))
    except ValidationError as exc:
        raise invalid_input(exc, "body") from None


def canonical_body(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised body that gets signed: validated, absent optionals dropped."""
    return parse_body(kind, body).model_dump(mode="json", exclude_none=True)


def _check_model(kind: str, model: BaseModel) -> None:
    # A body parsed as one kind must not be given a subject under another kind's name.
    if not isinstance(model, _model(kind)):
        raise InputError(f"kind: a {type(model).__name__} body is not a {kind!r} body")


def _b(hex32: str) -> bytes:
    return bytes.fromhex(hex32[2:])


def subject_for(kind: str, model: BaseModel, *, issuer: str) -> bytes:
    """The 32-byte id an entry is about (a facility, batch, audit, …)."""
    _check_model(kind, model)
    issuer_tag = issuer.lower().encode()
    match model:
        case Facility(os_id=str(os_id)):
            # Brands registering the same Open Supply Hub facility share one id.
            return keccak256(b"os:" + os_id.encode())
        case Facility():
            place = canonical_json(model.model_dump(include={"name", "country", "address"}))
            return keccak256(b"facility:" + issuer_tag + b":" + place)
        case SupplyLink():
            return keccak256(
                b"link:" + _b(model.supplier) + _b(model.buyer) + model.material.encode()
            )
        case Attestation() | Audit() | Grievance():
            return _b(model.facility)
        case FindingUpdate():
            return _b(model.audit)
        case GrievanceUpdate():
            return _b(model.grievance)
        case Product():
            return keccak256(b"product:" + issuer_tag + b":" + model.key.encode())
        case Batch():
            return keccak256(b"batch:" + _b(model.product) + b":" + model.lot.encode())
        case Transformation():
            return _b(model.output)
        case Revocation():
            return _b(model.target)
        case Accreditation():
            return account_subject(model.account)
    raise InputError(f"kind: no subject rule for {kind!r}")


def refs_for(kind: str, model: BaseModel) -> list[bytes]:
    """The ids an entry points at, signed into it so they cannot be swapped."""
    _check_model(kind, model)
    match model:
        case SupplyLink():
            return [_b(model.supplier), _b(model.buyer)]
        case Attestation() | Audit() | Grievance():
            return [_b(model.facility)]
        case FindingUpdate():
            return [_b(model.audit)]
        case GrievanceUpdate():
            return [_b(model.grievance)]
        case Batch():
            return [_b(model.product), _b(model.facility)]
        case Transformation():
            return [*map(_b, model.inputs), _b(model.output), _b(model.facility)]
        case Revocation():
            return [_b(model.target)]
    return []


def json_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of a kind's body."""
    return _model(kind).model_json_schema()


def operators_named(registrations: Iterable[tuple[str, Mapping[str, Any]]]) -> frozenset[str]:
    """A facility's operators from its registrations, (issuer, body) oldest first: the union
    over brands of what each brand's latest registration names, so a brand withdraws a key
    by registering the facility again without it."""
    latest = {issuer: body.get("operators", []) for issuer, body in registrations}
    return frozenset(account for named in latest.values() for account in named)


def checksum_address(value: str, field: str) -> str:
    """An account as the checksummed address bodies store; InputError naming `field`."""
    try:
        return address(value)
    except ValueError as exc:
        raise InputError(f"{field}: {exc}") from None
