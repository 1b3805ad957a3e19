"""A worker's receipt: the code a grievance channel hands the worker who raised it, checked
against this workspace and its chain, showing the worker only the month received, the
anchor, whether the channel held its role, the status and its history."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from labourledger.authority import issue_refusal
from labourledger.errors import InputError
from labourledger.grievances import grievance_view
from labourledger.kinds.grievances import parse_receipt, receipt_commitment

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["ReceiptCheck", "check_receipt"]


class ReceiptCheck(BaseModel):
    """All a receipt shows its holder, and nothing about anyone else: when the grievance
    was received, where it is anchored (the proof checked against the chain), whether its
    channel held its role, its status and history."""

    model_config = ConfigDict(frozen=True)

    received_month: str
    anchored: bool
    block_number: int | None
    proof_verified: bool
    #: Whether the channel that recorded it held its role in the block that anchored it,
    #: without which verify does not accept it; None until anchored on this chain.
    channel_accredited: bool | None
    status: str
    history: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return self.model_dump(mode="json")


def check_receipt(ledger: Ledger, code: str) -> ReceiptCheck:
    """Find the grievance a receipt code belongs to in `ledger` and check its anchor."""
    wanted = receipt_commitment(parse_receipt(code))
    rows = ledger.mirror.timelines(ledger.mirror.subjects_of("grievance"), "grievance")
    found = [r for rs in rows.values() for r in rs if r["body"]["receipt_commitment"] == wanted]
    if not found:
        raise InputError(
            "receipt: no grievance with this code here; check the code, or check it against "
            "a bundle or mirror that holds the grievance"
        )
    grievance = found[0]  # its timeline row: issuer and signed body, as the entry's
    view = grievance_view(ledger, grievance["entry_id"], grievance["body"]["facility"])
    verified = view.state != "pending" and ledger.proof(view.entry_id).verified
    block = view.block_number
    accredited = None
    if block is not None:
        issuer = grievance["issuer"]
        held = functools.partial(ledger.chain.has_role, account=issuer, block=block)
        accredited = issue_refusal("grievance", grievance["body"], issuer, held) is None
    return ReceiptCheck(
        received_month=view.received_month,
        anchored=view.state != "pending",
        block_number=block,
        proof_verified=verified,
        channel_accredited=accredited,
        status=view.status,
        history=tuple(
            {"status": h.status, "month": h.month, "state": h.state, "block_number": h.block_number}
            for h in view.history
        ),
    )
