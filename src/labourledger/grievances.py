"""Worker voice (issue 13): record grievances, update them, count them (`receipts` checks
a worker's receipt).

A grievance starts `acknowledged` (recording it acknowledges it); each
anchored `grievance_update` then sets its status, in anchor order, which no
issuer can back-date. A pending update is shown and changes nothing, and so is
a revoked one. Everything shown about a grievance outside its channel is a
count by category and status; a receipt check shows its holder the month, the
anchor, the status and its history, and nothing else.
"""

from __future__ import annotations

import functools
import os
import time
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger import kinds
from labourledger.audits import Revoked, Timelines
from labourledger.authority import may_update_grievance
from labourledger.envelope import to_hex
from labourledger.errors import InputError, a_kind
from labourledger.kinds.grievances import (
    CATEGORIES,
    GRIEVANCE_STATUSES,
    format_receipt,
    new_receipt,
    receipt_commitment,
    report_commitment,
)

if TYPE_CHECKING:
    from labourledger.envelope import HashSigner, SignedEntry
    from labourledger.ledger import Ledger

__all__ = [
    "INITIAL_STATUS",
    "UNRESOLVED",
    "EvidenceCommitment",
    "FacilityGrievances",
    "GrievanceListing",
    "GrievanceView",
    "RecordedGrievance",
    "StatusChange",
    "all_grievances",
    "count",
    "counts_of",
    "current_status",
    "evidence_commitment",
    "export",
    "grievance_view",
    "grievance_views",
    "grievances_of",
    "listing",
    "record",
    "update",
]

#: What recording a grievance says of it: the channel has it.
INITIAL_STATUS = "acknowledged"
#: Statuses of a grievance nobody has judged yet.
UNRESOLVED = ("acknowledged", "under_investigation")


def _this_month(issued_at: int | None = None) -> str:
    return _month_of(time.time() if issued_at is None else issued_at)


def _month_of(seconds: float) -> str:
    moment = time.gmtime(seconds)
    return f"{moment.tm_year:04d}-{moment.tm_mon:02d}"


def _anchored_month(row: Mapping[str, Any]) -> str | None:
    stamp = row.get("anchor_timestamp")
    return _month_of(stamp) if stamp else None


@dataclass(frozen=True)
class StatusChange:
    """One step of a grievance's history: the recording itself, or an update."""

    status: str
    month: str
    by: str
    entry_id: str
    issuer: str
    #: anchored, pending or revoked; only anchored steps change the status.
    state: str
    block_number: int | None
    #: The month of the anchor's block, when known: a step takes effect no earlier.
    anchored_month: str | None = None

    @property
    def effective_month(self) -> str:
        """From when the step counts: its month, or its anchor's month if later, so that
        an update cannot reach back before it was on chain."""
        return max(self.month, self.anchored_month or self.month)


@dataclass(frozen=True)
class GrievanceView:
    """A grievance as the mirror holds it, with its current status and history."""

    entry_id: str
    issuer: str
    facility: str
    received_month: str
    channel: str
    categories: tuple[str, ...]
    severity: str
    workers: str
    state: str
    block_number: int | None
    revoked_by: tuple[str, ...]
    status: str
    history: tuple[StatusChange, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no commitments: they serve only the channel and the receipt)."""
        return asdict(self)


def _state(row: Mapping[str, Any], revoked: Collection[str]) -> str:
    if row["entry_id"] in revoked:
        return "revoked"
    return "anchored" if row.get("anchor_status") else "pending"


def _view(
    row: Mapping[str, Any], updates: Sequence[Mapping[str, Any]], revoked: Mapping[str, list[str]]
) -> GrievanceView:
    body = row["body"]
    state = _state(row, revoked)
    history = [
        StatusChange(
            INITIAL_STATUS,
            body["received_month"],
            "grievance",
            row["entry_id"],
            row["issuer"],
            state,
            row.get("block_number"),
            _anchored_month(row),
        )
    ]
    history += [
        StatusChange(
            update["body"]["status"],
            update["body"]["month"],
            "grievance_update",
            update["entry_id"],
            update["issuer"],
            _state(update, revoked),
            update.get("block_number"),
            _anchored_month(update),
        )
        for update in updates
    ]
    return GrievanceView(
        entry_id=row["entry_id"],
        issuer=row["issuer"],
        facility=body["facility"],
        received_month=body["received_month"],
        channel=body["channel"],
        categories=tuple(body["categories"]),
        severity=body["severity"],
        workers=body["workers"],
        state=state,
        block_number=row.get("block_number"),
        revoked_by=tuple(revoked.get(row["entry_id"], [])),
        status="revoked" if state == "revoked" else current_status(history),
        history=tuple(history),
    )


def current_status(history: Sequence[StatusChange]) -> str:
    """The status the last anchored update set, in anchor order; the initial one without."""
    anchored = [step.status for step in history[1:] if step.state == "anchored"]
    return anchored[-1] if anchored else INITIAL_STATUS


def grievances_of(ledger: Ledger, facility_ids: Iterable[str]) -> dict[str, list[GrievanceView]]:
    """Each facility's grievances, in anchor order then pending ones; a few queries whatever
    the number of facilities. Facilities without grievances are absent."""
    return grievance_views(ledger.mirror.timelines, ledger.revoked, facility_ids)


def grievance_views(
    timelines: Timelines, revoked_of: Revoked, facility_ids: Iterable[str]
) -> dict[str, list[GrievanceView]]:
    """`grievances_of`, read through `timelines` and judged by `revoked_of` (any source)."""
    by_facility = timelines(facility_ids, "grievance")
    ids = [r["entry_id"] for rows in by_facility.values() for r in rows]
    updates = timelines(ids, "grievance_update")
    revoked = revoked_of([*ids, *(u["entry_id"] for rows in updates.values() for u in rows)])
    return {
        facility: [_view(row, updates.get(row["entry_id"], []), revoked) for row in rows]
        for facility, rows in by_facility.items()
    }


def grievance_view(ledger: Ledger, entry_id: str, facility: str) -> GrievanceView:
    """One grievance (`entry_id`, held here) of `facility`, as `grievances_of` shows it."""
    return next(v for v in grievances_of(ledger, [facility])[facility] if v.entry_id == entry_id)


def all_grievances(ledger: Ledger) -> dict[str, list[GrievanceView]]:
    """Every grievance the mirror holds, by facility."""
    return grievances_of(ledger, ledger.mirror.subjects_of("grievance"))


@dataclass(frozen=True)
class FacilityGrievances:
    """What anyone outside a channel is shown of a facility's grievances: counts."""

    facility: str
    total: int
    by_status: dict[str, int]
    by_category: dict[str, int]
    received_from: str | None
    received_to: str | None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the one-line summary."""
        # Not `asdict`: its deep copy was a fifth of tracing a tree (one of these a facility).
        counts = {"by_status": dict(self.by_status), "by_category": dict(self.by_category)}
        return vars(self) | counts | {"summary": self.summary}

    @property
    def summary(self) -> str:
        """One line: how many, by status and by category, received when."""
        if not self.total:
            return "no worker grievances"
        statuses = ", ".join(f"{k} {n}" for k, n in self.by_status.items())
        categories = ", ".join(f"{k} {n}" for k, n in self.by_category.items())
        span = (
            self.received_from
            if self.received_from == self.received_to
            else f"{self.received_from} to {self.received_to}"
        )
        plural = "grievance" if self.total == 1 else "grievances"
        return f"{self.total} worker {plural} ({statuses}; {categories}), received {span}"


def counts_of(ledger: Ledger, facility_ids: Iterable[str]) -> dict[str, FacilityGrievances]:
    """`count` of each facility's grievances as the mirror holds them (zero for none)."""
    wanted = list(dict.fromkeys(facility_ids))
    found = grievances_of(ledger, wanted)
    return {f: count(f, found.get(f, [])) for f in wanted}


def count(
    facility: str, views: Sequence[GrievanceView], name: str | None = None
) -> FacilityGrievances:
    """Counts by status and category (categories in the schema's order) of `views`."""
    if not views:  # most facilities of a trace: its Counters cost 14 µs a facility
        return FacilityGrievances(facility, 0, {}, {}, None, None, name)
    by_category = Counter(c for v in views for c in v.categories)
    months = sorted(v.received_month for v in views)
    return FacilityGrievances(
        facility=facility,
        total=len(views),
        by_status=dict(sorted(Counter(v.status for v in views).items())),
        # `get`, not `[]`: a Counter's missing key is a Python call (`__missing__`), one per
        # category a facility has no grievance in, most of a trace's counting.
        by_category={c: n for c in CATEGORIES if (n := by_category.get(c))},
        received_from=months[0] if months else None,
        received_to=months[-1] if months else None,
        name=name,
    )


@dataclass(frozen=True)
class GrievanceListing:
    """Grievances selected for a listing, by facility, with the facilities' names."""

    by_facility: dict[str, list[GrievanceView]]
    names: dict[str, str | None]

    @property
    def each(self) -> list[GrievanceView]:
        """Every selected grievance, facility by facility."""
        return [v for views in self.by_facility.values() for v in views]

    @property
    def counts(self) -> list[FacilityGrievances]:
        """The `count` of each facility with a selected grievance."""
        return [count(f, vs, self.names.get(f)) for f, vs in self.by_facility.items() if vs]


def listing(
    ledger: Ledger, *, facility: str | None = None, status: str | None = None
) -> GrievanceListing:
    """The grievances of `facility` (an id or OS id; default every one held here), only
    those whose current status is `status` (a grievance status, or revoked) when given."""
    if status is not None and status not in (*GRIEVANCE_STATUSES, "revoked"):
        raise InputError(f"status: expected one of {', '.join(GRIEVANCE_STATUSES)} or revoked")
    found = (
        grievances_of(ledger, [ledger.facility_id(facility)])
        if facility
        else all_grievances(ledger)
    )
    rows = ledger.mirror.lookup("facilities", "facility_id", list(found))
    return GrievanceListing(
        {f: [v for v in views if status in (None, v.status)] for f, views in found.items()},
        {f: rows.get(f, {}).get("name") for f in found},
    )


# -- recording -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordedGrievance:
    """A grievance just signed and stored, with the two secrets only `record` ever sees:
    the receipt code for the worker, and the salt of the report commitment for the
    channel (kept with the report, it shows which report the grievance commits to)."""

    entry: SignedEntry
    receipt: str = field(repr=False)
    report_salt: str = field(repr=False)


def record(
    ledger: Ledger,
    signer: HashSigner,
    *,
    facility: str,
    received_month: str,
    channel: str,
    categories: Sequence[str],
    severity: str,
    workers: str,
    report: bytes,
    issued_at: int | None = None,
    output: Path | None = None,
) -> RecordedGrievance:
    """Sign and store a grievance as pending, with a fresh receipt (and write it to
    `output` as a signed entry file); the report itself is only hashed, with a fresh
    salt, and never stored."""
    salt, secret = os.urandom(32), new_receipt()
    body = {
        "facility": ledger.facility_id(facility),
        "received_month": received_month,
        "channel": channel,
        "categories": list(categories),
        "severity": severity,
        "workers": workers,
        "report_commitment": report_commitment(salt, report),
        "receipt_commitment": receipt_commitment(secret),
    }
    kinds.parse_body("grievance", body)
    if received_month > _this_month(issued_at):
        raise InputError(f"received_month: {received_month} is after the month it is recorded in")
    entry = _keep(ledger, ledger.sign("grievance", body, signer, issued_at=issued_at), output)
    return RecordedGrievance(entry, format_receipt(secret), to_hex(salt))


@dataclass(frozen=True)
class EvidenceCommitment:
    """A salted hash of an evidence file put in an update; the channel keeps file and salt."""

    file: str
    salt: str
    hash: str


def evidence_commitment(path: Path) -> EvidenceCommitment:
    """Hash an evidence file with a fresh salt (the file never leaves the channel)."""
    ref = kinds.evidence_ref(path)
    return EvidenceCommitment(str(path), ref.salt, ref.hash)


def update(
    ledger: Ledger,
    signer: HashSigner,
    grievance_id: str,
    *,
    status: str,
    month: str | None = None,
    evidence: Sequence[EvidenceCommitment] = (),
    issued_at: int | None = None,
    output: Path | None = None,
) -> SignedEntry:
    """Sign and store a new status of a grievance, by its channel or an AUDITOR (and write
    it to `output` as a signed entry file)."""
    grievance = ledger.entry(grievance_id)
    if grievance.kind != "grievance":
        raise InputError(f"entry {grievance_id}: {a_kind(grievance.kind)}, not a grievance")
    signed_in = _this_month(issued_at)
    body = {
        "grievance": to_hex(grievance.entry_id),
        "status": status,
        "month": month or signed_in,
        "evidence": [e.hash for e in evidence],
    }
    kinds.parse_body("grievance_update", body)
    if month is not None and month > signed_in:
        raise InputError(f"month: {month} is after the month it is recorded in")
    if body["month"] < grievance.body["received_month"]:
        raise InputError(
            f"month: {body['month']} is before the grievance was received "
            f"({grievance.body['received_month']})"
        )
    _check_changes(ledger, to_hex(grievance.entry_id), grievance.body["facility"], body)
    auditor = functools.partial(ledger.chain.has_role, "AUDITOR", signer.address)
    if not may_update_grievance(signer.address, grievance.issuer, auditor):
        raise InputError(
            f"signer: only the channel that recorded it ({grievance.issuer}) or an AUDITOR "
            "may update a grievance"
        )
    return _keep(ledger, ledger.sign("grievance_update", body, signer, issued_at=issued_at), output)


def _check_changes(ledger: Ledger, grievance_id: str, facility: str, body: dict[str, Any]) -> None:
    """Refuse an update that would be signed, anchored and read as a change but changes
    nothing: of a revoked grievance, or restating its latest status (pending or anchored,
    not revoked) without new evidence."""
    view = grievance_view(ledger, grievance_id, facility)
    if view.state == "revoked":
        raise InputError(
            f"grievance {grievance_id}: revoked by {view.revoked_by[0]}, so no status of it counts"
        )
    last = [step for step in view.history if step.state != "revoked"][-1]
    if last.status == body["status"] and not body["evidence"]:
        raise InputError(
            f"status: grievance {grievance_id} is {last.status} already (since {last.month}, "
            f"{last.state}); give another status, or evidence to add"
        )


def _keep(ledger: Ledger, entry: SignedEntry, output: Path | None) -> SignedEntry:
    """Write the entry file, then store the entry: both or neither."""
    if output is not None:
        try:
            ledger.write_entries(output, [entry])
        except OSError as exc:
            raise InputError(f"output: cannot write {output} ({exc.strerror})") from None
    try:
        ledger.store([entry])
    except BaseException:
        if output is not None:
            output.unlink(missing_ok=True)
        raise
    return entry


def export(ledger: Ledger, path: Path, facility_ids: Iterable[str] | None = None) -> int:
    """Write grievances (of `facility_ids`, default all) and their updates to an entry file,
    with the proofs of those anchored, for brands to import as anchored; returns how many
    entries were written."""
    views = (
        grievances_of(ledger, facility_ids) if facility_ids is not None else all_grievances(ledger)
    )
    ids = [step.entry_id for vs in views.values() for v in vs for step in v.history]
    entries = ledger.entries(ids)
    try:
        ledger.write_entries(path, [entries[i] for i in ids], with_proofs=True)
    except OSError as exc:
        raise InputError(f"path: cannot write {path} ({exc.strerror})") from None
    return len(ids)
