"""Roles: granting and revoking the contract's roles, naming the organisation an account
belongs to when granting, and who holds them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labourledger.authority import issue_refusal
from labourledger.chain.ledger_contract import ROLES, RoleEvent
from labourledger.envelope import to_hex
from labourledger.errors import ChainError, InputError
from labourledger.kinds import checksum_address
from labourledger.recording import checked

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger

__all__ = [
    "NamedGrant",
    "Naming",
    "RoleHolder",
    "grant_named",
    "grant_role",
    "revoke_role",
    "role_history",
    "role_holders",
    "role_members",
    "roles_of",
]


def grant_role(ledger: Ledger, admin: LocalAccount, role: str, account: str) -> str:
    """Grant `role` (a name in `chain.roles.ROLES`), sent by `admin`, which must be allowed
    to grant it (`authority.role_granters`: a BRAND grants SUPPLIER, an ADMIN the others);
    returns the tx hash. Refused, nothing sent, when `account` holds it already."""
    account = checksum_address(account, "account")
    if ledger.chain.has_role(_role(role), account):
        raise InputError(f"role: {account} holds {_role(role)} already; nothing sent")
    with _sender_may("grant", role, admin):
        return to_hex(ledger.chain.grant_role(admin, _role(role), account).tx_hash)


def revoke_role(ledger: Ledger, admin: LocalAccount, role: str, account: str) -> str:
    """Revoke a role; returns the tx hash. The last ADMIN is kept: without one, nobody could
    grant or revoke a role again, nor accredit an organisation. Refused, nothing sent, when
    `account` does not hold it."""
    account = checksum_address(account, "account")
    if not ledger.chain.has_role(_role(role), account):
        raise InputError(f"role: {account} does not hold {_role(role)}; nothing sent")
    # Both checksummed: the account just now, the members as the events are decoded.
    if _role(role) == "ADMIN" and role_members(ledger)["ADMIN"] == [account]:
        raise InputError(
            f"role: {account} is the contract's only ADMIN; grant ADMIN to another account "
            "before revoking it"
        )
    with _sender_may("revoke", role, admin):
        return to_hex(ledger.chain.revoke_role(admin, _role(role), account).tx_hash)


@dataclass(frozen=True)
class Naming:
    """The organisation an account belongs to, as an admin names it in an accreditation."""

    organisation: str
    number: str | None = None
    #: First day it holds; None: the day it is signed.
    valid_from: dt.date | None = None
    #: Last day it holds; None: open-ended.
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class NamedGrant:
    """A role granted, and the accreditation (pending) naming the account's organisation."""

    role: str
    account: str
    #: None when the account held the role already: it was only named.
    tx_hash: str | None
    accreditation: SignedEntry


def grant_named(
    ledger: Ledger,
    admin: LocalAccount | Callable[[], LocalAccount],
    role: str,
    account: str,
    naming: Naming,
) -> NamedGrant:
    """Grant `role` to `account`, then record (pending) the same admin's accreditation naming
    its organisation. The accreditation is checked first, so bad input neither sends the
    transaction nor asks for `admin` (a callable is called only then); a sender who may not
    issue it (only an ADMIN names an organisation) sends nothing either. An account holding
    the role already is only named."""
    body = checked(
        "accreditation",
        {
            "account": account,
            "organisation": naming.organisation,
            "role": _role(role),
            "accreditation_number": naming.number,
            "valid_from": naming.valid_from or dt.date.today(),
            "valid_until": naming.valid_until,
        },
    )
    sender = admin() if callable(admin) else admin
    refusal = issue_refusal(
        "accreditation",
        body,
        sender.address,
        lambda held: ledger.chain.has_role(held, sender.address),
    )
    if refusal:
        # Signed anyway, it would never count: verify and `roles list` read an admin's only.
        raise InputError(f"naming: {refusal}; grant the role without naming its organisation")
    # One holding the role already (granted before, unnamed) is only named.
    held = ledger.chain.has_role(_role(role), account)
    tx_hash = None if held else grant_role(ledger, sender, role, account)
    entry = ledger.record("accreditation", body, sender)
    return NamedGrant(_role(role), account, tx_hash, entry)


@dataclass(frozen=True)
class RoleHolder:
    """One current member of a role: the local key of that address, and the organisation
    an admin's accreditation in force names (None for either when there is none)."""

    role: str
    account: str
    key: str | None
    organisation: str | None


def role_holders(ledger: Ledger) -> list[RoleHolder]:
    """Every current member of every role (`role_members`), with its local key's name and
    its accredited organisation (`accreditations.accredited`)."""
    from labourledger.accreditations import accredited

    members = role_members(ledger)
    names = ledger.workspace.keys.by_address()
    named = accredited(ledger, {a for accounts in members.values() for a in accounts})
    return [
        RoleHolder(
            role,
            account,
            names.get(account),
            named[account.lower()].organisation if account.lower() in named else None,
        )
        for role, accounts in members.items()
        for account in accounts
    ]


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
            f"sender: {sender.address} may not {action} {role.upper()} (the contract says: {exc})"
        ) from None


def _role(name: str) -> str:
    role = name.upper().removesuffix("_ROLE")
    if role not in ROLES:
        raise InputError(f"role {name!r}: expected one of {', '.join(ROLES)}")
    return role
