"""Supply links: a brand's signed statement that one facility supplies another."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labourledger.envelope import HashSigner, SignedEntry
    from labourledger.ledger import Ledger

__all__ = ["record_link"]


def record_link(
    ledger: Ledger,
    signer: HashSigner,
    *,
    supplier: str,
    buyer: str,
    material: str,
    valid_from: str | None = None,
    valid_to: str | None = None,
) -> SignedEntry:
    """Sign and store (pending) a supply link between two facilities registered here (ids or
    OS ids); it holds from `valid_from` (default: today, when it is recorded) to `valid_to`
    (default: open-ended)."""
    body: dict[str, Any] = {
        "supplier": ledger.facility_id(supplier, registered=True),
        "buyer": ledger.facility_id(buyer, registered=True),
        "material": material,
        "valid_from": valid_from or dt.date.today().isoformat(),
    }
    if valid_to:
        body["valid_to"] = valid_to
    return ledger.record("supply_link", body, signer)
