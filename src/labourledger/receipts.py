"""A worker's receipt: the code a grievance channel hands the worker who raised it, checked
against this workspace and its chain, showing the worker only the month received, the
anchor, the status and its history."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from labourledger.errors import InputError
from labourledger.grievances import grievance_view
from labourledger.kinds.grievances import parse_receipt, receipt_commitment

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["ReceiptCheck", "check_receipt"]


@dataclass(frozen=True)
class ReceiptCheck:
    """All a receipt shows its holder: when the grievance was received, where it is
    anchored (the proof checked against the chain), its status and history."""

    received_month: str
    anchored: bool
    block_number: int | None
    proof_verified: bool
    status: str
    history: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def check_receipt(ledger: Ledger, code: str) -> ReceiptCheck:
    """Find the grievance a receipt code belongs to in `ledger` and check its anchor."""
    wanted = receipt_commitment(parse_receipt(code))
    rows = ledger.mirror.timelines(ledger.mirror.subjects_of("grievance"), "grievance")
    ids = [
        r["entry_id"]
        for rs in rows.values()
        for r in rs
        if r["body"]["receipt_commitment"] == wanted
    ]
    if not ids:
        raise InputError(
            "receipt: no grievance with this code here; check the code, or check it against "
            "a bundle or mirror that holds the grievance"
        )
    view = grievance_view(ledger, ids[0], ledger.entry(ids[0]).body["facility"])
    verified = view.state != "pending" and ledger.proof(view.entry_id).verified
    return ReceiptCheck(
        received_month=view.received_month,
        anchored=view.state != "pending",
        block_number=view.block_number,
        proof_verified=verified,
        status=view.status,
        history=tuple(
            {"status": h.status, "month": h.month, "state": h.state, "block_number": h.block_number}
            for h in view.history
        ),
    )
