"""Attestations: a supplier's self-declaration about its facility, or a certificate an
auditor vouches for. Which of the two needs which role is `authority.roles_allowed`'s rule;
a self-declaration counts only from one of the facility's operators (see `authority`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from labourledger.errors import InputError
from labourledger.recording import checked, sign_with_evidence
from labourledger.vocabulary import Claim

if TYPE_CHECKING:
    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.recording import Signer

__all__ = ["sign_attestation"]


def sign_attestation(
    ledger: Ledger,
    signer: Signer,
    facility: str,
    *,
    claim: Claim,
    valid_from: dt.date,
    valid_until: dt.date,
    statement: str | None = None,
    standard: str | None = None,
    certificate_number: str | None = None,
    evidence: Sequence[Path] = (),
    issued_at: int | None = None,
) -> SignedEntry:
    """A `claim` about a facility registered here (id or OS id), in force from `valid_from`
    to `valid_until`, signed with its `evidence` files stored (call inside
    `ledger.evidence_staged()`); nothing else is stored. `other` needs a `statement`, a
    certificate its `standard` and `certificate_number`. The body is checked before any
    file is stored or `signer` asked for (for a callable: with AUDITOR for a certificate,
    SUPPLIER for a self-declaration)."""
    if claim != Claim.CERTIFICATE:  # a self-declaration naming them would read as a certificate
        for name, value in (("standard", standard), ("certificate_number", certificate_number)):
            if value is not None:
                raise InputError(f"{name}: only a certificate names one; this is {claim!s}")
    body = checked(
        "attestation",
        {
            "facility": ledger.facility_id(facility, registered=True),
            "claim": claim,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "statement": statement,
            "standard": standard,
            "certificate_number": certificate_number,
        },
    )
    return sign_with_evidence(
        ledger, "attestation", body, signer, evidence=evidence, issued_at=issued_at
    )
