"""Supply links: a brand's signed statement that one facility supplies another."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from labourledger.recording import record_checked

if TYPE_CHECKING:
    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.recording import Signer

__all__ = ["record_link"]


def record_link(
    ledger: Ledger,
    signer: Signer,
    *,
    supplier: str,
    buyer: str,
    material: str,
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
) -> SignedEntry:
    """Sign and store (pending) a supply link between two facilities registered here (ids or
    OS ids); it holds from `valid_from` (default: today, when it is recorded) to `valid_to`
    (default: open-ended). The body is checked before `signer` is asked for."""
    given = {
        "supplier": ledger.facility_id(supplier, registered=True),
        "buyer": ledger.facility_id(buyer, registered=True),
        "material": material,
        "valid_from": valid_from or dt.date.today(),
        "valid_to": valid_to,
    }
    return record_checked(ledger, "supply_link", given, signer)
