"""Audits and attestations as read back: a finding's status is the audit's, changed by
anchored updates.

Updates apply in anchor order (block, then leaf index), which no issuer can
back-date; an update not yet anchored is shown as pending and changes nothing,
and a revoked one is shown as revoked and changes nothing.

The views are typed models; `model_dump(mode="json")` gives the JSON the CLI's `--json`,
the web service and the verification report print, in which the signed fields appear
as they were signed (absent optional ones stay absent).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    field_serializer,
    model_serializer,
)

from labourledger.damage import as_model
from labourledger.kinds.models import Audit, Finding
from labourledger.vocabulary import (
    OPEN_FINDING_STATUSES,
    Claim,
    FindingStatus,
    VerificationMethod,
)

__all__ = ["AnchorView", "AttestationView", "AuditView", "FindingStep", "FindingView",
           "Revoked", "StepState", "Timelines", "anchor_view", "attestation_views",
           "audit_views", "finding_histories"]  # fmt: skip

#: `timelines(subjects, kind)`: entries of a kind about each subject, as `Mirror.timelines`.
Timelines = Callable[[Iterable[str], str], Mapping[str, list[dict[str, Any]]]]
#: `revoked(entry_ids)`: the revocations that count of each revoked entry, by target.
Revoked = Callable[[Iterable[str]], Mapping[str, list[str]]]
#: Where a step of a finding's history stands; only anchored steps change the status
#: (verification marks a step whose entry failed a check as failed).
StepState = Literal["anchored", "pending", "revoked", "failed"]


Model = TypeVar("Model", bound=BaseModel)

#: One `__pydantic_fields_set__` per distinct set of field names (see `_slim`).
_FIELD_SETS: dict[frozenset[str], set[str]] = {}


def _slim(model: Model) -> Model:
    """`model` with its set of given field names shared with every model given the same
    names: pydantic makes a set per instance (728 bytes for 8 names, more than the values
    take), and a batch's evidence holds tens of thousands of views. The models here are
    frozen, so nothing changes the set in place (`model_copy` copies it before updating)."""
    names = model.__pydantic_fields_set__
    object.__setattr__(
        model, "__pydantic_fields_set__", _FIELD_SETS.setdefault(frozenset(names), names)
    )
    return model


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class AnchorView(_View):
    """When and in which block an entry was anchored, as its timeline row knows it: what
    dates a finding update's effect. (`proof`'s anchor says where the root is instead.)"""

    #: submitted (mined) or final (deep enough).
    status: Literal["submitted", "final"]
    #: None where a bundle's root is not on the chain it is checked against.
    block_number: int | None
    #: The block's time (Unix seconds); None where the chain does not hold the root.
    timestamp: int | None
    tx_hash: str | None


class FindingStep(_View):
    """One step of a finding's history: the audit itself, or a finding update."""

    status: FindingStatus
    by: Literal["audit", "finding_update"]
    entry_id: str
    issued_at: int
    verification_method: VerificationMethod | None
    verified_on: dt.date | None
    state: StepState
    anchor: AnchorView | None


def _signed_shape(value: Any) -> Any:
    """A signed body's JSON drops optional fields that are not set: so does its view."""
    if isinstance(value, dict):
        return {k: _signed_shape(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_signed_shape(v) for v in value]
    return value


class FindingView(Finding):
    """A finding as its audit signed it, with its current `status` (the last anchored
    update's, else the audit's) and its `history`, the audit first."""

    # The enums hold their members here: a view is read, not signed.
    model_config = ConfigDict(use_enum_values=False)

    history: list[FindingStep]

    @model_serializer(mode="wrap")
    def _as_signed(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        history = data.pop("history")
        signed: dict[str, Any] = _signed_shape(data)
        return signed | {"history": history}


class AuditView(_View):
    """An audit: its signed body, anchor, the revocations that count against it, and each
    finding with its history and current status."""

    entry_id: str
    #: The auditor's account.
    issuer: str
    issued_at: int
    facility: str
    #: The signed body without its findings, which `findings` holds with their histories
    #: (held once: a large verification keeps thousands of audits).
    body: Audit
    anchor: AnchorView | None
    revoked_by: list[str]
    findings: list[FindingView]

    @field_serializer("body")
    def _body_as_signed(self, body: Audit, info: SerializationInfo) -> dict[str, Any]:
        return body.model_dump(mode=info.mode, exclude={"findings"}, exclude_none=True)

    @property
    def state(self) -> str:
        """revoked, pending, or its anchor's status (submitted or final)."""
        if self.revoked_by:
            return "revoked"
        return "pending" if self.anchor is None else self.anchor.status

    @property
    def open_findings(self) -> list[FindingView]:
        """The findings whose current status is still open (see `OPEN_FINDING_STATUSES`)."""
        return [f for f in self.findings if f.status in OPEN_FINDING_STATUSES]


class AttestationView(_View):
    """An attestation, with its anchor, the revocations that count against it, and whether
    it is `in_force` on the day it was read for."""

    entry_id: str
    issuer: str
    claim: Claim
    valid_from: dt.date
    valid_until: dt.date
    anchor: AnchorView | None
    revoked_by: list[str]
    #: Valid on the day asked about, and not revoked.
    in_force: bool


def anchor_view(row: Mapping[str, Any]) -> AnchorView | None:
    """The anchor facts of a timeline row, or None while it is pending."""
    if not row.get("anchor_status"):
        return None
    return _anchor_view(
        row["anchor_status"], row["block_number"], row["anchor_timestamp"], row["tx_hash"]
    )


# One view per anchor, shared (views are frozen): a batch's thousands of audits and finding
# steps sit under a handful of anchors, and a view apiece was megabytes of copies.
@functools.lru_cache(maxsize=1024)
def _anchor_view(
    status: str, block_number: int | None, timestamp: int | None, tx_hash: str | None
) -> AnchorView:
    return AnchorView(
        status=status,
        block_number=block_number,
        timestamp=timestamp,
        tx_hash=tx_hash,
    )


def _audit(row: Mapping[str, Any]) -> Audit:
    """The signed audit body of a timeline row."""
    return as_model(Audit, row["body"], table="entries", key=row["entry_id"], column="body")


def _state(row: Mapping[str, Any], revoked: Collection[str]) -> StepState:
    if row["entry_id"] in revoked:
        return "revoked"
    return "anchored" if row.get("anchor_status") else "pending"


def finding_histories(
    audit: Mapping[str, Any], updates: Sequence[Mapping[str, Any]], revoked: Collection[str]
) -> list[FindingView]:
    """Each finding of `audit` (a timeline row) with its history and current status.

    `updates` are the audit's finding_update rows in timeline order.
    """
    return _findings(audit, _audit(audit), updates, revoked)


def _findings(
    row: Mapping[str, Any],
    audit: Audit,
    updates: Sequence[Mapping[str, Any]],
    revoked: Collection[str],
) -> list[FindingView]:
    findings = []
    # The audit's own step differs between its findings by status alone: one per status
    # (views are frozen, so findings may share it).
    signed: dict[str, FindingStep] = {}
    for finding in audit.findings:
        if finding.status not in signed:
            signed[finding.status] = _slim(
                FindingStep(
                    status=finding.status,
                    by="audit",
                    entry_id=row["entry_id"],
                    issued_at=row["issued_at"],
                    verification_method=None,
                    verified_on=None,
                    state=_state(row, revoked),
                    anchor=anchor_view(row),
                )
            )
        history = [signed[finding.status]]
        for update in updates:
            body = update["body"]
            if body["finding_id"] != finding.id:
                continue
            history.append(
                _slim(
                    FindingStep(
                        status=body["status"],
                        by="finding_update",
                        entry_id=update["entry_id"],
                        issued_at=update["issued_at"],
                        verification_method=body["verification_method"],
                        verified_on=body["verified_on"],
                        state=_state(update, revoked),
                        anchor=anchor_view(update),
                    )
                )
            )
        anchored = [step.status for step in history[1:] if step.state == "anchored"]
        current = anchored[-1] if anchored else history[0].status
        # `__dict__`, not `dict()`: the same fields (findings allow no extras), without
        # pydantic's iterator, a tenth of building the views.
        view = FindingView(**{**finding.__dict__, "status": current, "history": history})
        findings.append(_slim(view))
    return findings


def audit_views(
    timelines: Timelines, revoked: Revoked, facility_ids: Iterable[str]
) -> dict[str, list[AuditView]]:
    """Each facility's audits with their findings' histories, by end date; facilities
    without audits are absent."""
    by_facility = timelines(facility_ids, "audit")
    audit_ids = [r["entry_id"] for rows in by_facility.values() for r in rows]
    updates = timelines(audit_ids, "finding_update")
    withdrawn = revoked([*audit_ids, *(u["entry_id"] for rows in updates.values() for u in rows)])

    def view(row: Mapping[str, Any]) -> AuditView:
        entry_id, body = row["entry_id"], _audit(row)
        view = AuditView(
            entry_id=entry_id,
            issuer=row["issuer"],
            issued_at=row["issued_at"],
            facility=body.facility,
            # Its findings live on in `findings`, with their histories: not held twice.
            body=_slim(body.model_copy(update={"findings": []})),
            anchor=anchor_view(row),
            revoked_by=withdrawn.get(entry_id, []),
            findings=_findings(row, body, updates.get(entry_id, []), withdrawn),
        )
        return _slim(view)

    return {
        facility: sorted(map(view, rows), key=lambda v: (v.body.end_date, v.entry_id))
        for facility, rows in by_facility.items()
    }


def attestation_views(
    timelines: Timelines, revoked: Revoked, facility_ids: Iterable[str], day: dt.date
) -> dict[str, list[AttestationView]]:
    """Each facility's attestations; `in_force` when valid on `day` and not revoked.
    Facilities without attestations are absent."""
    by_facility = timelines(facility_ids, "attestation")
    withdrawn = revoked(r["entry_id"] for rows in by_facility.values() for r in rows)

    def view(row: Mapping[str, Any]) -> AttestationView:
        body = row["body"]
        valid_from = dt.date.fromisoformat(body["valid_from"])
        valid_until = dt.date.fromisoformat(body["valid_until"])
        view = AttestationView(
            entry_id=row["entry_id"],
            issuer=row["issuer"],
            claim=body["claim"],
            valid_from=valid_from,
            valid_until=valid_until,
            anchor=anchor_view(row),
            revoked_by=withdrawn.get(row["entry_id"], []),
            in_force=valid_from <= day <= valid_until and row["entry_id"] not in withdrawn,
        )
        return _slim(view)

    return {facility: list(map(view, rows)) for facility, rows in by_facility.items()}
