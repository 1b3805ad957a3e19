"""Audit findings over time: a finding's status is the audit's, changed by anchored updates.

Updates apply in anchor order (block, then leaf index), which no issuer can
back-date; an update not yet anchored is shown as pending and changes nothing,
and a revoked one is shown as revoked and changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

__all__ = ["anchor_view", "finding_histories"]


def anchor_view(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """The anchor facts of a timeline row, or None while it is pending."""
    if not row.get("anchor_status"):
        return None
    return {
        "status": row["anchor_status"],
        "block_number": row["block_number"],
        "timestamp": row["anchor_timestamp"],
        "tx_hash": row["tx_hash"],
    }


def _state(row: Mapping[str, Any], revoked: Collection[str]) -> str:
    if row["entry_id"] in revoked:
        return "revoked"
    return "anchored" if row.get("anchor_status") else "pending"


def finding_histories(
    audit: Mapping[str, Any], updates: Sequence[Mapping[str, Any]], revoked: Collection[str]
) -> list[dict[str, Any]]:
    """Each finding of `audit` (a timeline row) with its history and current status.

    `updates` are the audit's finding_update rows in timeline order.
    """
    findings = []
    for finding in audit["body"].get("findings", []):
        history = [
            {
                "status": finding.get("status", "open"),
                "by": "audit",
                "entry_id": audit["entry_id"],
                "issued_at": audit["issued_at"],
                "verification_method": None,
                "verified_on": None,
                "state": _state(audit, revoked),
                "anchor": anchor_view(audit),
            }
        ]
        current = history[0]["status"]
        for update in updates:
            body = update["body"]
            if body["finding_id"] != finding["id"]:
                continue
            state = _state(update, revoked)
            history.append(
                {
                    "status": body["status"],
                    "by": "finding_update",
                    "entry_id": update["entry_id"],
                    "issued_at": update["issued_at"],
                    "verification_method": body["verification_method"],
                    "verified_on": body["verified_on"],
                    "state": state,
                    "anchor": anchor_view(update),
                }
            )
            if state == "anchored":
                current = body["status"]
        findings.append({**finding, "status": current, "history": history})
    return findings
