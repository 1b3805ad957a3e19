"""Withdrawing an entry: a signed revocation, refused before signing when its signer may not
issue it (the rule is `authority.revocation_refusal`; which revocations count when verifying
is `revocations`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from labourledger.authority import RevocationRefused, revocation_refusal
from labourledger.envelope import to_hex

if TYPE_CHECKING:
    from labourledger.envelope import HashSigner, SignedEntry
    from labourledger.ledger import Ledger

__all__ = ["refusal_now", "sign_revocation"]


def sign_revocation(
    ledger: Ledger,
    entry_id: str,
    reason: str,
    signer: HashSigner | Callable[[], HashSigner],
) -> SignedEntry:
    """A revocation of the entry `entry_id` held here, signed by `signer` (or by what the
    callable returns, called once the target is found, so a typo needs no passphrase);
    nothing is stored. RevocationRefused unless the signer issued the entry or holds ADMIN,
    and for an entry revoked already or a revocation (withdrawing either changes nothing).
    """
    target = ledger.entry(entry_id)
    target_id = to_hex(target.entry_id)
    if callable(signer):
        signer = signer()
    refusal = refusal_now(ledger, signer.address, target_id, target.issuer)
    if refusal:
        raise RevocationRefused(f"revocation: {refusal}")
    # Signed anyway, these would change nothing: a withdrawal is not itself withdrawn.
    if target.kind == "revocation":
        raise RevocationRefused(f"revocation: {target_id} is a revocation, which stands once made")
    if earlier := ledger.revoked([target_id]).get(target_id):
        raise RevocationRefused(f"revocation: {target_id} is revoked already, by {earlier[0]}")
    return ledger.sign("revocation", {"target": target_id, "reason": reason}, signer)


def refusal_now(
    ledger: Ledger, revoker: str, target_id: str, target_issuer: str | None
) -> str | None:
    """Why `revoker` may not revoke `target_id` today (`authority.revocation_refusal`, with
    ADMIN asked of the contract at its latest block); None when it may."""
    return revocation_refusal(
        revoker, target_id, target_issuer, lambda: ledger.chain.has_role("ADMIN", revoker)
    )
