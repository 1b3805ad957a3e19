"""Whose word a verdict rests on: the admin accounts that accredited every issuer.

Every role on the contract was granted by someone; following the grants back from an
issuer ends at an admin that nobody granted ADMIN before (the deployer's constructor
grant). A bundle naming a contract someone else deployed, with themselves as admin,
verifies cryptographically; only knowing which admin one trusts tells it apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from labourledger.verify.results import CheckResult, Outcome

__all__ = ["Accreditation", "RoleGrant", "accrediting_admins", "trust_checks"]

#: Grants followed back from an issuer before giving up (a loop of grants has no root).
MAX_DEPTH = 16


class RoleGrant(Protocol):
    """One role event as the chain reports it (`labourledger.chain.RoleEvent`)."""

    @property
    def role(self) -> str: ...
    @property
    def account(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def granted(self) -> bool: ...
    @property
    def block_number(self) -> int: ...


@dataclass(frozen=True)
class Accreditation:
    """The admins at the root of each issuer's grants (lower-case addresses)."""

    by_issuer: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def admins(self) -> list[str]:
        """Every admin some issuer's accreditation goes back to, sorted."""
        return sorted({a for roots in self.by_issuer.values() for a in roots})


def accrediting_admins(
    events: Sequence[RoleGrant], issuers: Iterable[tuple[str, int]]
) -> Accreditation:
    """For each `(issuer, block)`, the root admins of the grants it held at `block`."""
    history: dict[str, list[RoleGrant]] = {}
    for event in sorted(events, key=lambda e: e.block_number):
        history.setdefault(event.account.lower(), []).append(event)
    first_admin = {
        account: min(e.block_number for e in held if e.role == "ADMIN" and e.granted)
        for account, held in history.items()
        if any(e.role == "ADMIN" and e.granted for e in held)
    }

    def held_at(account: str, block: int) -> list[RoleGrant]:
        """The grants in force for `account` at `block`, one per role."""
        latest: dict[str, RoleGrant] = {}
        for event in history.get(account, []):
            if event.block_number <= block:
                latest[event.role] = event
        return [e for e in latest.values() if e.granted]

    def roots(account: str, block: int, depth: int) -> frozenset[str]:
        found: set[str] = set()
        if depth > MAX_DEPTH:
            return frozenset()
        for grant in held_at(account, block):
            sender = grant.sender.lower()
            if grant.role == "ADMIN" and first_admin.get(sender, grant.block_number) >= (
                grant.block_number
            ):
                # Nobody granted the sender ADMIN before: this is the contract's first admin.
                found.add(account)
            elif sender != account:
                found |= roots(sender, grant.block_number, depth + 1)
        return frozenset(found)

    return Accreditation({i.lower(): roots(i.lower(), b, 0) for i, b in issuers})


def trust_checks(accreditation: Accreditation, trusted: Sequence[str]) -> list[CheckResult]:
    """One check per issuer: FAIL when its accreditation does not go back to a trusted admin
    (or to no admin at all); PASS naming the admin otherwise."""
    wanted = {a.lower() for a in trusted}
    results = []
    for issuer, admins in sorted(accreditation.by_issuer.items()):
        named = ", ".join(sorted(admins)) or "no admin"
        if not admins:
            outcome, reason = Outcome.FAIL, f"issuer {issuer}: no admin's grant leads to it"
        elif wanted and not admins & wanted:
            outcome = Outcome.FAIL
            reason = f"issuer {issuer} was accredited by {named}, not by a trusted admin"
        else:
            outcome = Outcome.PASS
            trust = "a trusted admin" if wanted else "the admin trusted (none was named)"
            reason = f"issuer {issuer} was accredited by {named}, {trust}"
        results.append(CheckResult("accredited_by", outcome, reason))
    return results
