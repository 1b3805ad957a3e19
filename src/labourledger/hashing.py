"""The envelope's hashing primitives: keccak256, RFC 8785 canonical JSON, the salted content
hash and EIP-55 checksum addresses.

Verifying a ledger makes a dozen of these calls per entry, so each takes the shortest path
that gives the reference implementation's exact bytes (tests compare them on random input).
"""

from __future__ import annotations

import functools
import json
from _json import make_encoder
from collections.abc import Mapping
from typing import Any, Final

import rfc8785
import sha3
from eth_utils.address import is_hex_address, to_checksum_address

from labourledger.errors import InputError

__all__ = ["canonical_json", "checksum_address", "content_hash", "keccak256", "parse_address"]

# safe-pysha3's C keccak: about a fifth of the per-call time of eth_hash's pycryptodome
# backend, which builds a hash object through ctypes on every call.
_keccak_256 = sha3.keccak_256


def keccak256(data: bytes) -> bytes:
    """Ethereum's keccak256 (the original Keccak padding, not NIST SHA3-256)."""
    digest: bytes = _keccak_256(data).digest()
    return digest


# JSON numbers are IEEE doubles: RFC 8785 refuses integers past 2**53 - 1 in magnitude.
_INT_LIMIT: Final = 2**53 - 1
# The C encoder json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# runs, made once: JSONEncoder.encode makes a new one per call, a fifth of encoding a body.
# No cycle markers: `_plain`, run first, never returns on a cycle.
_encode = make_encoder(
    None,  # markers
    json.JSONEncoder().default,  # for other types, which `_plain` lets none through
    json.encoder.encode_basestring,  # ensure_ascii=False
    None,  # indent
    ":",
    ",",
    True,  # sort_keys
    False,  # skipkeys
    False,  # allow_nan
)


_SCALARS: Final = frozenset({str, bool, type(None)})
_STR: Final = frozenset({str})


def _plain(value: Any) -> bool:
    """Whether the stdlib encoder writes `value` exactly as RFC 8785 does.

    It does for exact str, bool, None, safe ints, lists and dicts whose keys are strings
    of the Basic Multilingual Plane (where code-point order is RFC 8785's UTF-16 order).
    Floats (ECMAScript number form) and anything else take the reference encoder.
    """
    kind = type(value)
    if kind is dict:
        if not set(map(type, value)) <= _STR:  # half the time of all(... for k in value)
            return False
        keys = "".join(value)
        if not (keys.isascii() or max(keys) <= "\uffff"):
            return False
        items = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return kind in _SCALARS or (kind is int and -_INT_LIMIT <= value <= _INT_LIMIT)
    for item in items:
        kind = type(item)
        if kind in _SCALARS:
            continue
        if kind is int:
            if not -_INT_LIMIT <= item <= _INT_LIMIT:
                return False
        elif not _plain(item):
            return False
    return True


def canonical_json(body: Mapping[str, Any]) -> bytes:
    """RFC 8785 (JCS) canonical JSON of a body, as UTF-8 bytes."""
    if type(body) is dict and _plain(body):
        try:
            return "".join(_encode(body, 0)).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference encoder names the error
    try:
        return rfc8785.dumps(body)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(f"body cannot be canonicalised as JSON: {exc}") from None


def content_hash(body: Mapping[str, Any], salt: bytes) -> bytes:
    """keccak256(salt ‖ JCS(body)); the salt keeps low-entropy bodies unguessable."""
    if len(salt) != 32:
        raise InputError(f"salt: expected 32 bytes, got {len(salt)}")
    return keccak256(salt + canonical_json(body))


# A ledger has few issuers and many entries: each address is checksummed once, not per entry.
@functools.lru_cache(maxsize=4096)
def checksum_address(address: bytes) -> str:
    """The EIP-55 checksum form of a 20-byte address."""
    return str(to_checksum_address(address))


# Every entry names its issuer: each issuer's address is checked once, not per entry.
@functools.lru_cache(maxsize=4096)
def parse_address(value: str) -> str:
    """A written address in its EIP-55 checksum form; ValueError when it is not 0x and 40 hex
    digits, or mixes cases (so claims a checksum) and the checksum is wrong: a typo, most
    likely, which would send a role or trust to an account nobody holds."""
    if not is_hex_address(value):
        raise ValueError(f"{value!r} is not an Ethereum address (0x and 40 hex digits)")
    checksummed = str(to_checksum_address(value))
    digits = value[-40:]
    if digits not in (digits.lower(), digits.upper(), checksummed[2:]):
        raise ValueError(f"{value!r} fails its EIP-55 checksum (mixed case); check it for a typo")
    return checksummed
