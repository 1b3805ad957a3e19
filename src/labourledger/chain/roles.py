"""The contract's roles: their ids (as AccessControl hashes them) and short names."""

from __future__ import annotations

from labourledger.hashing import keccak256

__all__ = ["ROLES", "role_name"]

ROLES: dict[str, bytes] = {
    "ADMIN": b"\x00" * 32,
    "BRAND": keccak256(b"BRAND_ROLE"),
    "AUDITOR": keccak256(b"AUDITOR_ROLE"),
    "SUPPLIER": keccak256(b"SUPPLIER_ROLE"),
    "GRIEVANCE_CHANNEL": keccak256(b"GRIEVANCE_CHANNEL_ROLE"),
}
ROLE_NAMES = {value: name for name, value in ROLES.items()}


def role_name(role: bytes) -> str:
    """The short name (a key of ROLES) of a role id, or its hex if unknown."""
    return ROLE_NAMES.get(bytes(role), "0x" + bytes(role).hex())
