"""Names for addresses: an admin's signed word that an account is an organisation.

Readers of a report see "Bureau Veritas" where the chain only knows an address.
An accreditation names the account, the organisation, the role it was granted and,
for auditors and certification bodies, the number of its accreditation, valid over
a window. Its subject is derived from the account alone, so every accreditation of
one account shares a timeline and the latest in force wins.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import model_validator

from labourledger.hashing import keccak256
from labourledger.kinds.models import Address, Body, Day, Text

__all__ = ["Accreditation", "account_subject"]

AccreditedRole = Literal["BRAND", "AUDITOR", "SUPPLIER", "GRIEVANCE_CHANNEL"]


def account_subject(account: str) -> bytes:
    """The id every accreditation of `account` is about."""
    return keccak256(b"account:" + account.lower().encode())


class Accreditation(Body):
    """Who an account is: organisation, role, accreditation number, valid from/until."""

    account: Address
    organisation: Text
    role: AccreditedRole
    accreditation_number: Text | None = None
    valid_from: Day
    valid_until: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Accreditation:
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until: before valid_from")
        return self

    def in_force(self, on: dt.date) -> bool:
        """Whether the accreditation covers day `on`."""
        return self.valid_from <= on and (self.valid_until is None or on <= self.valid_until)
