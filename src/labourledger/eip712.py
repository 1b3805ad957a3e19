"""EIP-712 for LabourLedger entries: the domain, the `Entry` struct and their hashes, as
README's "How it works" states them (`labourledger.envelope` builds entries on these)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

from labourledger.hashing import keccak256

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "EIP712_TYPES",
    "ENTRY_TYPE",
    "domain_separator",
    "entry_struct_hash",
]

DOMAIN_NAME: Final = "LabourLedger"
DOMAIN_VERSION: Final = "1"
ENTRY_TYPE: Final = (
    "Entry(address issuer,string kind,uint16 schemaVersion,bytes32 subject,"
    "bytes32[] refs,uint64 issuedAt,bytes32 contentHash)"
)
_DOMAIN_TYPE: Final = (
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_ENTRY_TYPEHASH: Final = keccak256(ENTRY_TYPE.encode())
_DOMAIN_TYPEHASH: Final = keccak256(_DOMAIN_TYPE.encode())
#: keccak256 of no refs (most kinds have none): a microsecond an entry, the call's own cost.
_NO_REFS_HASH: Final = keccak256(b"")

#: The EIP-712 `types` object, as wallets and `eth_account` expect it.
EIP712_TYPES: Final[dict[str, list[dict[str, str]]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Entry": [
        {"name": "issuer", "type": "address"},
        {"name": "kind", "type": "string"},
        {"name": "schemaVersion", "type": "uint16"},
        {"name": "subject", "type": "bytes32"},
        {"name": "refs", "type": "bytes32[]"},
        {"name": "issuedAt", "type": "uint64"},
        {"name": "contentHash", "type": "bytes32"},
    ],
}


@functools.lru_cache(maxsize=64)
def _kind_hash(kind: str) -> bytes:
    return keccak256(kind.encode())


# An address as an ABI word (left-padded to 32 bytes), once per issuer rather than per entry.
@functools.lru_cache(maxsize=4096)
def _address_word(address: str) -> bytes:
    return bytes(12) + bytes.fromhex(address[2:])


# Cached by value, not per Domain object: callers build a fresh Domain for every check.
@functools.lru_cache(maxsize=64)
def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    """hashStruct(EIP712Domain) of LabourLedger's domain on `chain_id` at `verifying_contract`."""
    return keccak256(
        _DOMAIN_TYPEHASH
        + keccak256(DOMAIN_NAME.encode())
        + keccak256(DOMAIN_VERSION.encode())
        + chain_id.to_bytes(32, "big")
        + bytes(12)
        + bytes.fromhex(verifying_contract[2:])
    )


def entry_struct_hash(
    issuer: str,
    kind: str,
    schema_version: int,
    subject: bytes,
    refs: Sequence[bytes],
    issued_at: int,
    content_hash: bytes,
) -> bytes:
    """hashStruct(Entry) of an entry's seven signed fields (`issuer` checksummed)."""
    # Joined once rather than added up piece by piece: a seventh of computing an id.
    return keccak256(
        b"".join(
            (
                _ENTRY_TYPEHASH,
                _address_word(issuer),
                _kind_hash(kind),
                schema_version.to_bytes(32, "big"),
                subject,
                keccak256(b"".join(refs)) if refs else _NO_REFS_HASH,
                issued_at.to_bytes(32, "big"),
                content_hash,
            )
        )
    )
