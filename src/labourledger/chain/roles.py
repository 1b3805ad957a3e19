"""The contract's roles: their ids (as AccessControl hashes them) and short names."""

from __future__ import annotations

from eth_hash.auto import keccak

__all__ = ["ROLES", "role_name"]

ROLES: dict[str, bytes] = {
    "ADMIN": b"\x00" * 32,
    "BRAND": keccak(b"BRAND_ROLE"),
    "AUDITOR": keccak(b"AUDITOR_ROLE"),
    "SUPPLIER": keccak(b"SUPPLIER_ROLE"),
    "GRIEVANCE_CHANNEL": keccak(b"GRIEVANCE_CHANNEL_ROLE"),
}
ROLE_NAMES = {value: name for name, value in ROLES.items()}


def role_name(role: bytes) -> str:
    """The short name (ADMIN, BRAND, AUDITOR, SUPPLIER) of a role id, or its hex if unknown."""
    return ROLE_NAMES.get(bytes(role), "0x" + bytes(role).hex())
