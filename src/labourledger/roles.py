"""Roles: granting and revoking the contract's roles, and who holds them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from labourledger.chain.ledger_contract import ROLES, RoleEvent
from labourledger.envelope import to_hex
from labourledger.errors import ChainError, InputError

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from labourledger.ledger import Ledger

__all__ = ["grant_role", "revoke_role", "role_history", "role_members", "roles_of"]


def grant_role(ledger: Ledger, admin: LocalAccount, role: str, account: str) -> str:
    """Grant BRAND, AUDITOR, SUPPLIER or ADMIN; returns the tx hash."""
    with _sender_may("grant", role, admin):
        return to_hex(ledger.chain.grant_role(admin, _role(role), account).tx_hash)


def revoke_role(ledger: Ledger, admin: LocalAccount, role: str, account: str) -> str:
    """Revoke a role; returns the tx hash."""
    with _sender_may("revoke", role, admin):
        return to_hex(ledger.chain.revoke_role(admin, _role(role), account).tx_hash)


def role_members(ledger: Ledger) -> dict[str, list[str]]:
    """Current members of each role, replayed from the contract's role events."""
    members: dict[str, list[str]] = {role: [] for role in ROLES}
    start = ledger.config.chain.deploy_block
    for event in ledger.chain.role_events(start, ledger.chain.latest_block()):
        holders = members[event.role]
        if event.granted and event.account not in holders:
            holders.append(event.account)
        elif not event.granted and event.account in holders:
            holders.remove(event.account)
    return members


def role_history(ledger: Ledger) -> list[RoleEvent]:
    """Every role grant and revocation since the contract was deployed, oldest first."""
    return ledger.chain.role_events(ledger.config.chain.deploy_block, ledger.chain.latest_block())


def roles_of(ledger: Ledger, accounts: Iterable[str]) -> dict[str, list[str]]:
    """Roles each address holds now, read from the contract."""
    return {a: [r for r in ROLES if ledger.chain.has_role(r, a)] for a in accounts}


@contextmanager
def _sender_may(action: str, role: str, sender: LocalAccount) -> Iterator[None]:
    """The contract refusing the sender is the user's choice of key, not a chain failure."""
    try:
        yield
    except ChainError as exc:
        if exc.error_name != "AccessControlUnauthorizedAccount":
            raise
        raise InputError(
            f"--key: {sender.address} may not {action} {role.upper()} (the contract says: {exc})"
        ) from None


def _role(name: str) -> str:
    role = name.upper().removesuffix("_ROLE")
    if role not in ROLES:
        raise InputError(f"role {name!r}: expected one of {', '.join(ROLES)}")
    return role
