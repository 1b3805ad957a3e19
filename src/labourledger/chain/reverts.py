"""What a reverted call or transaction says: the contract's custom error, its arguments as
a person reads them, and what to do about it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import ContractLogicError

from labourledger.chain.roles import ROLE_NAMES, role_name
from labourledger.errors import ChainError
from labourledger.hashing import keccak256

__all__ = ["RevertDecoder"]

_ERROR_STRING_SELECTOR = keccak256(b"Error(string)")[:4]

# What a person should do about each custom error the contract (or AccessControl) reverts with.
_ERROR_HINTS = {
    "EmptyBatch": "a batch must hold at least one entry",
    "ZeroRoot": "the zero root anchors nothing; this is a bug in the caller",
    "IndexMismatch": "every indexed entry needs one subject, and no more than the batch holds",
    "NotOnboardingBrand": "only the brand that onboarded this supplier, or the admin, may revoke",
    "BatchTooLarge": "split the batch into smaller ones",
    "RootAlreadyAnchored": "this Merkle root is already on chain; nothing to do",
    "NotAMember": "the sender holds no role in the contract; ask its admin to grant one",
    "AccessControlUnauthorizedAccount": "the sender lacks the role needed for this",
    "AccessControlBadConfirmation": "an account can only renounce its own roles",
}


@dataclass(frozen=True)
class _CustomError:
    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]


class RevertDecoder:
    """Turns a revert into a `ChainError` naming the custom error the ABI declares."""

    def __init__(self, abi: Sequence[dict[str, Any]]) -> None:
        self._errors = {
            _selector(e["name"], [i["type"] for i in e["inputs"]]): (
                _CustomError(
                    e["name"],
                    tuple(i["name"] for i in e["inputs"]),
                    tuple(i["type"] for i in e["inputs"]),
                )
            )
            for e in abi
            if e["type"] == "error"
        }

    def error(self, action: str, exc: ContractLogicError) -> ChainError:
        """A `ChainError` naming the custom error (and its arguments) a call reverted with."""
        data = bytes(HexBytes(exc.data)) if isinstance(exc.data, str) else b""
        custom = self._errors.get(data[:4])
        if custom is not None:
            values = abi_decode(list(custom.arg_types), data[4:])
            args = ", ".join(
                f"{n}={_show(v)}" for n, v in zip(custom.arg_names, values, strict=True)
            )
            hint = _ERROR_HINTS.get(custom.name)
            message = f"{action} reverted: {custom.name}({args})" + (f": {hint}" if hint else "")
            return ChainError(message, error_name=custom.name)
        if data[:4] == _ERROR_STRING_SELECTOR:
            (reason,) = abi_decode(["string"], data[4:])
            return ChainError(f"{action} reverted: {reason}")
        return ChainError(f"{action} reverted: {exc.message or 'no reason given'}")


def _selector(name: str, arg_types: Sequence[str]) -> bytes:
    """The 4-byte selector of a function or custom error signature."""
    return keccak256(f"{name}({','.join(arg_types)})".encode())[:4]


def _show(value: object) -> str:
    """An error argument as a person reads it: role names, checksummed addresses, 0x hex."""
    if isinstance(value, bytes):
        return role_name(value) if value in ROLE_NAMES else "0x" + value.hex()
    if isinstance(value, str) and Web3.is_address(value):
        return Web3.to_checksum_address(value)
    return str(value)
