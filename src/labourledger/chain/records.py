"""What the chain reports back: a mined transaction, an anchor this process saw mined, and
the contract's record of an anchored root."""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress

__all__ = ["AnchorReceipt", "AnchorRecord", "TxResult"]


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction (and the contract it created, if it deployed one)."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int
    contract_address: ChecksumAddress | None = None


@dataclass(frozen=True)
class AnchorReceipt:
    """A Merkle root anchored by a transaction this process sent and saw mined."""

    root: bytes
    size: int
    submitter: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    timestamp: int
    gas_used: int


@dataclass(frozen=True)
class AnchorRecord:
    """What the contract stores for an anchored root (`anchorOf`)."""

    root: bytes
    submitter: str
    block_number: int
    timestamp: int
    size: int
