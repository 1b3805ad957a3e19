"""Development ether for a workspace's keys: amounts in ether, exactly, and the transfer from a
development node's account (embedded chain, anvil, hardhat)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from labourledger.errors import InputError

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["Funded", "ether_to_wei", "fund_key"]

_WEI_DECIMALS = 18


@dataclass(frozen=True)
class Funded:
    """A key after funding, with its balance in wei."""

    name: str
    address: str
    balance_wei: int

    @property
    def balance_ether(self) -> Decimal:
        """The balance in ether, exactly."""
        return Decimal(self.balance_wei).scaleb(-_WEI_DECIMALS)


def ether_to_wei(amount: str) -> int:
    """An amount of ether, given as text, in wei through Decimal: 0.1 ether is exactly 10**17
    wei, not a float's guess. InputError for anything not above 0 with at most 18 decimals."""
    from web3 import Web3

    try:
        ether = Decimal(amount).normalize()
    except InvalidOperation:
        ether = Decimal("NaN")
    exponent = ether.as_tuple().exponent
    if (
        not ether.is_finite()
        or ether <= 0
        or not isinstance(exponent, int)
        or exponent < -_WEI_DECIMALS
    ):
        raise InputError(
            f"amount: expected ether above 0 with at most 18 decimals, e.g. 0.25; got {amount!r}"
        )
    try:
        return int(Web3.to_wei(ether, "ether"))
    except ValueError:  # more wei than an account can hold (2**256 - 1)
        raise InputError(f"amount: {amount!r} ether is more than an account can hold") from None


def fund_key(ledger: Ledger, name: str, amount: str) -> Funded:
    """Send `amount` ether (text, e.g. "0.25") to key `name` from the dev node's account."""
    wei = ether_to_wei(amount)
    address = ledger.workspace.keys.address(name)
    ledger.chain.fund(address, wei)
    return Funded(name, address, ledger.chain.balance(address))
