"""Body schema v1: the pydantic models of the entry kinds but grievances (`kinds.grievances`)
and accreditations (`kinds.accreditation`); `kinds.KINDS` maps every kind to its model."""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    model_validator,
)

from labourledger.errors import InputError
from labourledger.hashing import keccak256, parse_address
from labourledger.identifiers import (
    validate_country,
    validate_gln,
    validate_gtin,
    validate_lei,
    validate_os_id,
)
from labourledger.vocabulary import (
    ILO_INDICATORS,
    SEVERITIES,
    AuditStandard,
    AuditType,
    Claim,
    FacilityType,
    FindingStatus,
    IloIndicator,
    Notice,
    Severity,
    VerificationMethod,
)

__all__ = [
    "FACILITY_TYPES",
    "ILO_INDICATORS",
    "SEVERITIES",
    "TIER_BY_TYPE",
    "WORKER_BAND",
    "Attestation",
    "Audit",
    "Batch",
    "CorrectiveAction",
    "DocumentHash",
    "EvidenceRef",
    "Facility",
    "Finding",
    "FindingUpdate",
    "Product",
    "Revocation",
    "SupplyLink",
    "Transformation",
    "address",
    "evidence_matches",
    "evidence_ref",
]


def _checked(fn: Any) -> Any:
    """Turn a validator's InputError into the ValueError pydantic reports with the field path."""

    def check(value: Any) -> Any:
        try:
            return fn(value)
        except InputError as exc:
            raise ValueError(str(exc).split(": ", 1)[-1]) from None

    return check


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def printable(value: str) -> str:
    """Text without control characters other than tab and line breaks: a NUL byte, say,
    is kept by SQLite, refused by PostgreSQL and invisible to a reader."""
    bad = _CONTROL.search(value)  # every text field of every body passes here
    if bad is not None:
        raise ValueError(f"control character U+{ord(bad.group()):04X} at position {bad.start()}")
    return value


Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(printable)
]


#: The largest whole number canonical JSON (RFC 8785) holds exactly; a body with more
#: could not be hashed.
MAX_WHOLE = 2**53 - 1

#: Short codes the mirror keeps in columns of 16 and 64 characters.
Code16 = Annotated[Text, StringConstraints(max_length=16)]
Code64 = Annotated[Text, StringConstraints(max_length=64)]

#: Open Supply Hub's worker ranges: "1001-5000", "Less than 1000", "More than 10000".
WORKER_BAND = r"^(\d{1,9} ?- ?\d{1,9}|Less than \d{1,9}|More than \d{1,9})$"


def _band_in_order(band: str) -> str:
    low, dash, high = band.partition("-")
    if dash and int(low) > int(high):
        raise ValueError(f"{band!r}: the low end exceeds the high end")
    return band


WorkerBand = Annotated[Text, StringConstraints(pattern=WORKER_BAND), AfterValidator(_band_in_order)]
Hex32 = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^0x[0-9a-fA-F]{64}$"),
]
Country = Annotated[str, AfterValidator(_checked(validate_country))]
OsId = Annotated[str, AfterValidator(_checked(validate_os_id))]
Gln = Annotated[str, AfterValidator(_checked(validate_gln))]
Lei = Annotated[str, AfterValidator(_checked(validate_lei))]
Gtin = Annotated[str, AfterValidator(_checked(validate_gtin))]


def address(value: str) -> str:
    """An account, checksummed; ValueError when it is not one."""
    return parse_address(value.strip())


#: An account, stored checksummed so one key is always spelled one way.
Address = Annotated[str, AfterValidator(address)]

FACILITY_TYPES: tuple[str, ...] = tuple(FacilityType)
#: Tier implied by an Open Supply Hub facility type (1 assembly, 2 material, 4 raw material).
TIER_BY_TYPE: dict[str, int] = {
    "Final Product Assembly": 1,
    "Warehousing / Distribution": 1,
    "Office / HQ": 1,
    "Printing, Product Dyeing and Laundering": 2,
    "Textile or Material Production": 2,
    "Raw Material Processing or Production": 4,
}


def _a_day(value: Any) -> Any:
    # Pydantic would take a number for Unix time: 86400 for 1970-01-02.
    if isinstance(value, int | float):  # a bool too
        raise ValueError("expected a date as YYYY-MM-DD, not a number")
    return value


#: A calendar day, written YYYY-MM-DD, never a number of seconds.
Day = Annotated[dt.date, BeforeValidator(_a_day)]


class Body(BaseModel):
    """Base of every body: unknown fields are errors, values are immutable."""

    # Enum fields hold their plain string values, as the signed JSON does. Whole numbers
    # are StrictInt: JSON's true is no count, though Python takes it for 1.
    # Validators are built on first use (as in every model here): a command that validates
    # no entry, such as `status`, starts without building them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True, defer_build=True)


def _ordered(first: dt.date | None, then: dt.date | None, names: str) -> None:
    # The message leads with the later field so parse_body can report it as the bad one.
    earlier, later = names.split("/")
    if first is not None and then is not None and then < first:
        raise ValueError(f"{later}: {then.isoformat()} is before {earlier} {first.isoformat()}")


class EvidenceRef(Body):
    """A salted hash of an evidence file kept off chain: keccak256(salt ‖ file bytes)."""

    name: Text
    media_type: Text
    size: StrictInt = Field(ge=0, le=MAX_WHOLE)
    salt: Hex32
    hash: Hex32


def evidence_ref(
    path: Path, media_type: str | None = None, salt: bytes | None = None
) -> EvidenceRef:
    """Hash an evidence file with a fresh salt, so its hash reveals nothing guessable."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"evidence {path}: cannot read ({exc.strerror})") from None
    salt = os.urandom(32) if salt is None else salt
    if len(salt) != 32:
        raise InputError(f"evidence {path}: salt must be 32 bytes, got {len(salt)}")
    guessed = mimetypes.guess_type(path.name)[0]
    return EvidenceRef(
        name=path.name,
        media_type=media_type or guessed or "application/octet-stream",
        size=len(data),
        salt="0x" + salt.hex(),
        hash="0x" + keccak256(salt + data).hex(),
    )


def evidence_matches(ref: EvidenceRef, data: bytes) -> bool:
    """Whether `data` is the file `ref` was made from."""
    salt = bytes.fromhex(ref.salt[2:])
    return len(data) == ref.size and "0x" + keccak256(salt + data).hex() == ref.hash


class Facility(Body):
    """A production site and its place in the supply chain (tier 1 to 4)."""

    name: Text
    country: Country
    address: Text
    os_id: OsId | None = None
    gln: Gln | None = None
    lei: Lei | None = None
    facility_type: FacilityType | None = None
    processing_types: list[Text] = []
    tier: StrictInt = Field(ge=1, le=4)
    worker_count: StrictInt | None = Field(default=None, ge=0, le=MAX_WHOLE)
    worker_band: WorkerBand | None = None
    parent_company: Text | None = None
    #: SUPPLIER keys that speak for this facility: only their self-declarations and
    #: transformations count for it. Each brand's latest registration sets its list.
    operators: list[Address] = []

    @model_validator(mode="after")
    def _consistent(self) -> Facility:
        if self.worker_count is not None and self.worker_band is not None:
            raise ValueError("worker_band: give worker_count or worker_band, not both")
        if len(set(self.operators)) != len(self.operators):
            raise ValueError("operators: an account is listed more than once")
        return self


class SupplyLink(Body):
    """One facility supplies material to another."""

    supplier: Hex32
    buyer: Hex32
    material: Text
    valid_from: Day
    valid_to: Day | None = None

    @model_validator(mode="after")
    def _valid(self) -> SupplyLink:
        if self.supplier == self.buyer:
            raise ValueError("buyer: supplier and buyer must be different facilities")
        _ordered(self.valid_from, self.valid_to, "valid_from/valid_to")
        return self


class Attestation(Body):
    """A supplier's self-declaration, or a certificate an auditor vouches for."""

    facility: Hex32
    claim: Claim
    standard: Text | None = None
    certificate_number: Text | None = None
    valid_from: Day
    valid_until: Day
    evidence: list[EvidenceRef] = []
    statement: Text | None = None

    @model_validator(mode="after")
    def _valid(self) -> Attestation:
        if self.claim == "certificate":
            for name in ("standard", "certificate_number"):
                if getattr(self, name) is None:
                    raise ValueError(f"{name}: a certificate needs standard and certificate_number")
        if self.claim == "other" and not self.statement:
            raise ValueError("statement: a free-text claim ('other') needs a statement")
        _ordered(self.valid_from, self.valid_until, "valid_from/valid_until")
        return self


class CorrectiveAction(Body):
    """What the facility will do about a finding, and by when."""

    action: Text
    preventive_action: Text | None = None
    due_date: Day


class Finding(Body):
    """One non-compliance found by an audit, tagged with ILO forced labour indicators."""

    id: Code64
    clause: Text | None = None
    ilo_indicators: list[IloIndicator] = []
    severity: Severity
    description: Text
    evidence: list[EvidenceRef] = []
    root_cause: Text | None = None
    corrective_action: CorrectiveAction | None = None
    status: FindingStatus = FindingStatus.OPEN

    @model_validator(mode="after")
    def _unique_indicators(self) -> Finding:
        if len(set(self.ilo_indicators)) != len(self.ilo_indicators):
            raise ValueError("ilo_indicators: listed more than once")
        return self


class Audit(Body):
    """An auditor's signed inspection result of one facility."""

    facility: Hex32
    standard: AuditStandard
    standard_other: Text | None = None
    audit_type: AuditType
    notice: Notice
    start_date: Day
    end_date: Day
    workers_interviewed: StrictInt = Field(ge=0, le=MAX_WHOLE)
    grade: Text | None = None
    result: Literal["pass", "conditional", "fail"] | None = None
    valid_until: Day | None = None
    evidence: list[EvidenceRef] = []
    findings: list[Finding] = []

    @model_validator(mode="after")
    def _valid(self) -> Audit:
        if (self.standard == "other") != (self.standard_other is not None):
            raise ValueError("standard_other: required exactly when standard is 'other'")
        _ordered(self.start_date, self.end_date, "start_date/end_date")
        _ordered(self.end_date, self.valid_until, "end_date/valid_until")
        ids = [f.id for f in self.findings]
        if len(set(ids)) != len(ids):
            raise ValueError("findings: finding ids must be unique")
        return self


class FindingUpdate(Body):
    """An auditor's later verification of one finding's status."""

    audit: Hex32
    finding_id: Code64
    status: FindingStatus
    verification_method: VerificationMethod
    verified_on: Day
    evidence: list[EvidenceRef] = []
    note: Text | None = None


class Product(Body):
    """A product a brand sells, identified by GTIN or SKU."""

    gtin: Gtin | None = None
    sku: Text | None = None
    name: Text
    brand: Text
    description: Text | None = None
    hs_code: Annotated[str, StringConstraints(pattern=r"^\d{6,10}$")] | None = None

    @model_validator(mode="after")
    def _identified(self) -> Product:
        if self.gtin is None and self.sku is None:
            raise ValueError("sku: give a gtin or a sku")
        return self

    @property
    def key(self) -> str:
        """What identifies the product within its brand: the GTIN, else the SKU."""
        return f"gtin:{self.gtin}" if self.gtin else f"sku:{self.sku}"


class Batch(Body):
    """A lot of a product (or material) made at one facility."""

    product: Hex32
    lot: Text
    quantity: StrictInt = Field(ge=1, le=MAX_WHOLE)
    unit: Code16 = "pcs"
    produced_at: Day
    facility: Hex32


class DocumentHash(EvidenceRef):
    """The salted hash of a business document backing a transformation."""

    type: Literal["purchase_order", "invoice", "bill_of_lading", "packing_list", "other"]
    number: Text | None = None


class Transformation(Body):
    """Input batches became an output batch at a facility (an EPCIS TransformationEvent)."""

    inputs: list[Hex32] = Field(min_length=1)
    output: Hex32
    facility: Hex32
    date: Day
    documents: list[DocumentHash] = []

    @model_validator(mode="after")
    def _valid(self) -> Transformation:
        if len(set(self.inputs)) != len(self.inputs):
            raise ValueError("inputs: a batch is listed more than once")
        if self.output in self.inputs:
            raise ValueError("output: a batch cannot be its own input")
        return self


class Revocation(Body):
    """Withdraws an earlier entry; verification then fails closed on it."""

    target: Hex32
    reason: Text
