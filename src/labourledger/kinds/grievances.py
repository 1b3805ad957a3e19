"""Worker voice (issue 13): grievances an accredited channel records, and their updates.

A grievance names a facility, a month, categories, a severity and a band of
workers, and commits to the report and to the worker's receipt by hash. No
field can hold a name, a phone number, a day or free text: everything is a
closed choice or a 32-byte commitment, and unknown fields are refused.

The receipt is 80 random bits the channel reads out once, as 16 Crockford
base32 characters in groups of four (`7QKD-M3ZP-W9TX-4B2H`); the body holds
only keccak256("labourledger-receipt:" ‖ secret).
"""

from __future__ import annotations

import os
import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from labourledger.errors import InputError
from labourledger.hashing import keccak256
from labourledger.identifiers import CROCKFORD
from labourledger.kinds.models import Body, Hex32
from labourledger.vocabulary import (
    CATEGORIES,
    CHANNEL_TYPES,
    GRIEVANCE_STATUSES,
    ChannelType,
    GrievanceCategory,
    GrievanceStatus,
    Severity,
    WorkersBand,
)

__all__ = [
    "CATEGORIES",
    "CHANNEL_TYPES",
    "GRIEVANCE_STATUSES",
    "RECEIPT_BITS",
    "WORKER_BANDS",
    "Grievance",
    "GrievanceUpdate",
    "format_receipt",
    "new_receipt",
    "parse_receipt",
    "receipt_commitment",
    "report_commitment",
]

WORKER_BANDS: tuple[str, ...] = tuple(WorkersBand)

_MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(_MONTH_PATTERN)
#: Earlier is a typing slip (0000-01), not a month any channel took a grievance in.
_FIRST_YEAR = 1900


def _month(value: str) -> str:
    # A day (or anything finer) could narrow a report down to the worker who made it.
    if not _MONTH.fullmatch(value):
        raise ValueError(f"{value!r} is not a month YYYY-MM (a grievance never records a day)")
    if int(value[:4]) < _FIRST_YEAR:
        raise ValueError(f"{value!r} is before {_FIRST_YEAR}")
    return value


Month = Annotated[
    str,
    AfterValidator(_month),
    WithJsonSchema({"type": "string", "pattern": _MONTH_PATTERN, "description": "YYYY-MM"}),
]


class Grievance(Body):
    """A worker's grievance about a facility, as an accredited channel recorded it."""

    facility: Hex32
    received_month: Month
    channel: ChannelType
    categories: list[GrievanceCategory] = Field(min_length=1)
    severity: Severity
    workers: WorkersBand
    #: keccak256(salt ‖ report bytes): the report and its salt stay with the channel.
    report_commitment: Hex32
    #: keccak256("labourledger-receipt:" ‖ the 80-bit secret read out to the worker).
    receipt_commitment: Hex32

    @model_validator(mode="after")
    def _unique(self) -> Grievance:
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories: a category is listed more than once")
        return self


class GrievanceUpdate(Body):
    """A new status of a grievance, from its channel or an auditor who investigated it."""

    grievance: Hex32
    status: GrievanceStatus
    month: Month
    #: Salted hashes of evidence kept off the ledger (no file names: they can name people).
    evidence: list[Hex32] = Field(default_factory=list)


RECEIPT_BITS = 80
_RECEIPT_BYTES = RECEIPT_BITS // 8
_RECEIPT_CHARS = RECEIPT_BITS // 5
_RECEIPT_PREFIX = b"labourledger-receipt:"
# Crockford's decoding rules: letters read out or written by hand that look alike.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def receipt_commitment(secret: bytes) -> str:
    """What a grievance body holds of its receipt: keccak256("labourledger-receipt:" ‖ secret)."""
    return "0x" + keccak256(_RECEIPT_PREFIX + secret).hex()


def report_commitment(salt: bytes, report: bytes) -> str:
    """keccak256(salt ‖ report): binds the grievance to a report no one can guess from it."""
    if len(salt) != 32:
        raise InputError(f"report salt: must be 32 bytes, got {len(salt)}")
    return "0x" + keccak256(salt + report).hex()


def new_receipt() -> bytes:
    """A fresh 80-bit receipt secret."""
    return os.urandom(_RECEIPT_BYTES)


def format_receipt(secret: bytes) -> str:
    """The code a person reads out: 16 Crockford base32 characters in groups of four."""
    if len(secret) != _RECEIPT_BYTES:
        raise InputError(f"receipt: the secret must be {_RECEIPT_BYTES} bytes")
    number = int.from_bytes(secret, "big")
    chars = "".join(CROCKFORD[(number >> (5 * i)) & 31] for i in reversed(range(_RECEIPT_CHARS)))
    return "-".join(chars[i : i + 4] for i in range(0, _RECEIPT_CHARS, 4))


def parse_receipt(code: str) -> bytes:
    """The secret of a receipt code, read leniently (any case, hyphens or spaces, O for 0,
    I or L for 1); InputError without echoing the code, which is a secret."""
    chars = re.sub(r"[\s-]", "", code).upper().translate(_ALIASES)
    if len(chars) != _RECEIPT_CHARS or any(c not in CROCKFORD for c in chars):
        raise InputError(
            f"receipt code: expected {_RECEIPT_CHARS} characters of Crockford base32 "
            "(0-9 and letters but I, L, O, U) in four groups, like XXXX-XXXX-XXXX-XXXX"
        )
    number = 0
    for c in chars:
        number = number * 32 + CROCKFORD.index(c)
    return number.to_bytes(_RECEIPT_BYTES, "big")
