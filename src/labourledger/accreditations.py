"""Which organisation an account is, as far as the ledger's admins have said so.

An accreditation counts only when it is anchored, intact (hash, id, signature and
inclusion re-checked), not withdrawn, signed by an account that held ADMIN at its
anchor block, and in force on the day asked about. The latest such one of an
account wins. Everything else leaves the account unnamed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from labourledger.envelope import SignedEntry
from labourledger.kinds.accreditation import Accreditation, account_subject

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["Accredited", "accredited"]


@dataclass(frozen=True)
class Accredited:
    """An account's organisation, from the accreditation entry that names it."""

    account: str
    organisation: str
    role: str
    number: str | None
    valid_until: dt.date | None
    entry_id: str

    @property
    def detail(self) -> str:
        """The role and accreditation number, in one line."""
        number = f", accreditation {self.number}" if self.number else ""
        until = f", valid until {self.valid_until}" if self.valid_until else ""
        return f"{self.role.lower().replace('_', ' ')}{number}{until}"


def accredited(
    ledger: Ledger, accounts: Iterable[str], on: dt.date | None = None
) -> dict[str, Accredited]:
    """The accounts among `accounts` that an admin has named, keyed by lower-case address."""
    on = on or dt.date.today()
    wanted = {"0x" + account_subject(a).hex(): a.lower() for a in accounts if a}
    if not wanted:
        return {}
    timelines = ledger.mirror.timelines(wanted, "accreditation")
    ids = [row["entry_id"] for rows in timelines.values() for row in rows]
    revoked = ledger.revoked(ids)
    proofs = ledger.stored_proofs(ids)
    found: dict[str, Accredited] = {}
    for subject, rows in timelines.items():
        for row in rows:  # anchored ones first, oldest first: the last that counts wins
            entry_id = row["entry_id"]
            if row["block_number"] is None or entry_id in revoked or entry_id not in proofs:
                continue
            entry = SignedEntry.model_validate(row)
            body = Accreditation.model_validate(entry.body)
            if body.account.lower() != wanted[subject] or not body.in_force(on):
                continue
            if not all(c.passed for c in ledger.check_integrity(entry, proofs[entry_id])):
                continue
            if not ledger.chain.has_role("ADMIN", entry.issuer, row["block_number"]):
                continue
            found[wanted[subject]] = Accredited(
                account=body.account,
                organisation=body.organisation,
                role=body.role,
                number=body.accreditation_number,
                valid_until=body.valid_until,
                entry_id=entry_id,
            )
    return found
