"""Who may issue each kind, who may revoke an entry, who speaks for a facility, and who may
grant each role.

The one place these rules live. Recording, importing and verifying (of a mirror
and of a bundle) all ask here; none of them restates a rule. Nothing here reads
a database or a chain: callers pass in what the chain says (`held`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from labourledger.errors import InputError

__all__ = [
    "IgnoredRevocation",
    "RevocationRefused",
    "issue_refusal",
    "may_update_grievance",
    "revocation_refusal",
    "role_granters",
    "roles_allowed",
    "speaks_for_facility",
]

Held = Callable[[str], bool]
"""Whether the account in question holds a role (asked at the block that matters)."""


def roles_allowed(kind: str, body: Mapping[str, Any]) -> tuple[str, ...]:
    """The roles, any one of which lets an issuer issue `kind`.

    Revocations are not here: they need the target's issuer or the admin
    (`revocation_refusal`).
    """
    if kind == "attestation":
        return ("AUDITOR",) if body.get("claim") == "certificate" else ("SUPPLIER",)
    if kind == "transformation":
        return ("BRAND", "SUPPLIER")
    if kind in ("audit", "finding_update"):
        return ("AUDITOR",)
    if kind == "grievance":
        return ("GRIEVANCE_CHANNEL",)
    if kind == "grievance_update":
        # An auditor who investigated may say what was found.
        return ("GRIEVANCE_CHANNEL", "AUDITOR")
    if kind == "accreditation":
        # Who an account is, only those who grant the roles may say.
        return ("ADMIN",)
    return ("BRAND",)


def issue_refusal(kind: str, body: Mapping[str, Any], issuer: str, held: Held) -> str | None:
    """Why `issuer` may not issue this entry (None when it may); `held(role)` asks the
    chain whether the issuer holds `role`."""
    allowed = roles_allowed(kind, body)
    if any(held(role) for role in allowed):
        return None
    return (
        f"issuer {issuer} holds no {' or '.join(allowed)} role on this chain's contract, "
        f"which {kind} entries need"
    )


def revocation_refusal(
    revoker: str, target_id: str, target_issuer: str | None, held_admin: Callable[[], bool]
) -> str | None:
    """Why `revoker` may not revoke `target_id` (None when it may): only the target's
    issuer, or an account holding ADMIN (`held_admin`, asked at the revocation's anchor
    block, or now for one not anchored yet), may withdraw an entry."""
    if target_issuer is None:
        return f"revokes {target_id}, which is not held here"
    if revoker.lower() == target_issuer.lower() or held_admin():
        return None
    return (
        f"{revoker} may not revoke {target_id}: only the issuer ({target_issuer}) or an admin may"
    )


def may_update_grievance(issuer: str, channel: str, held_auditor: Callable[[], bool]) -> bool:
    """Whether `issuer` may set the status of a grievance `channel` recorded: that channel
    itself, or an AUDITOR (who investigated it; `held_auditor` asks the chain). Another
    channel may not, nor may a brand."""
    return issuer == channel or held_auditor()


def speaks_for_facility(kind: str, body: Mapping[str, Any], held_brand: Callable[[], bool]) -> bool:
    """Whether an entry is a supplier speaking for its facility, so its issuer must be one of
    the facility's operators: a self-declaration, or a transformation signed without BRAND
    (`held_brand` asks the chain, only for transformations)."""
    if kind == "attestation":
        return bool(body["claim"] != "certificate")
    return kind == "transformation" and not held_brand()


def role_granters(role: str) -> tuple[str, ...]:
    """The roles whose holders may grant `role` on the contract: BRAND grants SUPPLIER (a
    brand onboards its own suppliers), ADMIN every other role."""
    return ("BRAND",) if role == "SUPPLIER" else ("ADMIN",)


class RevocationRefused(InputError):
    """A revocation its signer may not issue; nothing was stored."""


@dataclass(frozen=True)
class IgnoredRevocation:
    """A revocation that does not count, and why: verification names it and goes on."""

    entry_id: str
    target: str
    reason: str
