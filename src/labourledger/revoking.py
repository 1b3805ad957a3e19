"""Withdrawing an entry: a signed revocation, refused before signing when its signer may not
issue it (the rule is `authority.revocation_refusal`; which revocations count when verifying
is `revocations`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from labourledger.authority import RevocationRefused, revocation_refusal

if TYPE_CHECKING:
    from labourledger.envelope import HashSigner, SignedEntry
    from labourledger.ledger import Ledger

__all__ = ["sign_revocation"]


def sign_revocation(
    ledger: Ledger,
    entry_id: str,
    reason: str,
    signer: HashSigner | Callable[[], HashSigner],
) -> SignedEntry:
    """A revocation of the entry `entry_id` held here, signed by `signer` (or by what the
    callable returns, called once the target is found, so a typo needs no passphrase);
    nothing is stored. RevocationRefused unless the signer issued the entry or holds ADMIN.
    """
    target = ledger.entry(entry_id)
    target_id = "0x" + target.entry_id.hex()
    if callable(signer):
        signer = signer()
    refusal = revocation_refusal(
        signer.address,
        target_id,
        target.issuer,
        lambda: ledger.chain.has_role("ADMIN", signer.address),
    )
    if refusal:
        raise RevocationRefused(f"revocation: {refusal}")
    return ledger.sign("revocation", {"target": target_id, "reason": reason}, signer)
