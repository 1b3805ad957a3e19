"""Audits and attestations as read back: a finding's status is the audit's, changed by
anchored updates.

Updates apply in anchor order (block, then leaf index), which no issuer can
back-date; an update not yet anchored is shown as pending and changes nothing,
and a revoked one is shown as revoked and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["Revoked", "Timelines", "anchor_view", "attestation_views", "audit_views",
           "finding_histories"]  # fmt: skip

#: `timelines(subjects, kind)`: entries of a kind about each subject, as `Mirror.timelines`.
Timelines = Callable[[Iterable[str], str], Mapping[str, list[dict[str, Any]]]]
#: `revoked(entry_ids)`: the revocations that count of each revoked entry, by target.
Revoked = Callable[[Iterable[str]], Mapping[str, list[str]]]


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


def audit_views(
    timelines: Timelines, revoked: Revoked, facility_ids: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each facility's audits with their findings' histories, by end date; facilities
    without audits are absent."""
    by_facility = timelines(facility_ids, "audit")
    audit_ids = [r["entry_id"] for rows in by_facility.values() for r in rows]
    updates = timelines(audit_ids, "finding_update")
    withdrawn = revoked([*audit_ids, *(u["entry_id"] for rows in updates.values() for u in rows)])

    def view(row: Mapping[str, Any]) -> dict[str, Any]:
        entry_id, body = row["entry_id"], row["body"]
        return {
            "entry_id": entry_id,
            "issuer": row["issuer"],
            "issued_at": row["issued_at"],
            "facility": body["facility"],
            "body": {k: v for k, v in body.items() if k != "findings"},
            "anchor": anchor_view(row),
            "revoked_by": withdrawn.get(entry_id, []),
            "findings": finding_histories(row, updates.get(entry_id, []), withdrawn),
        }

    return {
        facility: sorted(map(view, rows), key=lambda v: (v["body"]["end_date"], v["entry_id"]))
        for facility, rows in by_facility.items()
    }


def attestation_views(
    timelines: Timelines, revoked: Revoked, facility_ids: Iterable[str], day: str
) -> dict[str, list[dict[str, Any]]]:
    """Each facility's attestations; `in_force` when valid on `day` (ISO date) and not
    revoked. Facilities without attestations are absent."""
    by_facility = timelines(facility_ids, "attestation")
    withdrawn = revoked(r["entry_id"] for rows in by_facility.values() for r in rows)

    def view(row: Mapping[str, Any]) -> dict[str, Any]:
        body = row["body"]
        return {
            "entry_id": row["entry_id"],
            "issuer": row["issuer"],
            "claim": body["claim"],
            "valid_from": body["valid_from"],
            "valid_until": body["valid_until"],
            "anchor": anchor_view(row),
            "revoked_by": withdrawn.get(row["entry_id"], []),
            "in_force": body["valid_from"] <= day <= body["valid_until"]
            and row["entry_id"] not in withdrawn,
        }

    return {facility: list(map(view, rows)) for facility, rows in by_facility.items()}
