"""Facility identifiers: Open Supply Hub ids, ISO countries, GS1 GLNs and LEIs."""

from __future__ import annotations

import functools

import pycountry
from stdnum import ean, lei
from stdnum.exceptions import ValidationError as StdnumError

from labourledger.errors import InputError
from labourledger.hashing import keccak256

__all__ = [
    "CROCKFORD",
    "facility_id_from_os_id",
    "is_hex_id",
    "make_os_id",
    "validate_country",
    "validate_gln",
    "validate_gtin",
    "validate_lei",
    "validate_os_id",
]

#: Crockford base32, the alphabet of Open Supply Hub ids.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
OS_ID_LENGTH = 15


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def is_hex_id(value: str) -> bool:
    """Whether `value` is a 32-byte id as written: 0x and 64 hex digits, either case."""
    return len(value) == 66 and value.startswith("0x") and _HEX_DIGITS.issuperset(value[2:])


_CROCKFORD_VALUE = {c: n for n, c in enumerate(CROCKFORD)}
_CROCKFORD_SET = frozenset(CROCKFORD)


def _os_check_char(first14: str) -> str:
    """Open Supply Hub's check character (as its own validator computes it)."""
    total = (
        ord(first14[0]) + ord(first14[1]) + sum(map(_CROCKFORD_VALUE.__getitem__, first14[2:14]))
    )
    return CROCKFORD[total % 32]


@functools.cache
def _alpha_2() -> frozenset[str]:
    # A set lookup, not pycountry's per-call search: facilities are validated by thousands.
    return frozenset(country.alpha_2 for country in pycountry.countries)


def validate_country(value: str, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased."""
    code = value.strip().upper()
    if code not in _alpha_2():
        raise InputError(f"{field}: {value!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def validate_os_id(value: str) -> str:
    """A valid Open Supply Hub id, normalised (no hyphens or spaces, upper case)."""
    os_id = value.replace("-", "").replace(" ", "").upper()
    if len(os_id) != OS_ID_LENGTH:
        raise InputError(f"os_id: {value!r} must have {OS_ID_LENGTH} characters")
    validate_country(os_id[:2], "os_id")
    # str.isdigit() alone also accepts non-ASCII digits, which the check sum cannot weigh.
    digits = os_id[2:9]
    if not (digits.isascii() and digits.isdigit()):
        raise InputError(f"os_id: {value!r} must have 7 digits after the country code")
    tail = os_id[9:]
    if not _CROCKFORD_SET.issuperset(tail):  # one set test: ids come by thousands, nearly all good
        position, c = next((p, c) for p, c in enumerate(tail, 10) if c not in _CROCKFORD_SET)
        raise InputError(
            f"os_id: {value!r} has {c!r} as character {position}, which Crockford base32 "
            "does not use (its 32 characters are 0-9 and A-Z without I, L, O and U)"
        )
    if _os_check_char(os_id[:14]) != os_id[14]:
        raise InputError(f"os_id: {value!r} has a wrong check character")
    return os_id


def make_os_id(country: str, digits: str, body5: str) -> str:
    """A valid Open Supply Hub id from its parts (for demos and tests)."""
    first14 = f"{country}{digits}{body5}".replace("-", "").replace(" ", "").upper()
    if len(first14) != OS_ID_LENGTH - 1 or any(c not in CROCKFORD for c in first14[2:]):
        raise InputError(f"os_id: {first14!r} must be 2 letters, 7 digits and 5 characters")
    return validate_os_id(first14 + _os_check_char(first14))


def facility_id_from_os_id(os_id: str) -> bytes:
    """The facility id every brand derives from one Open Supply Hub id."""
    return keccak256(b"os:" + validate_os_id(os_id).encode())


def validate_gln(value: str) -> str:
    """A GS1 Global Location Number: 13 digits with a valid check digit."""
    try:
        number = ean.validate(value)
    except StdnumError as exc:
        raise InputError(f"gln: {value!r} is not valid ({exc})") from None
    if len(number) != 13:
        raise InputError(f"gln: {value!r} must have 13 digits")
    return str(number)


def validate_gtin(value: str) -> str:
    """A GS1 trade item number (GTIN-8, -12, -13 or -14) with a valid check digit."""
    try:
        return str(ean.validate(value))
    except StdnumError as exc:
        raise InputError(f"gtin: {value!r} is not valid ({exc})") from None


def validate_lei(value: str) -> str:
    """A Legal Entity Identifier (ISO 17442) with valid check digits."""
    try:
        return str(lei.validate(value))
    except StdnumError as exc:
        raise InputError(f"lei: {value!r} is not valid ({exc})") from None
