"""A batch's evidence, gathered from any `EvidenceSource`: its trace, and every entry its
verdict depends on, with the facilities, audits, attestations and grievances they hold."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labourledger.audits import (
    AttestationView,
    AuditView,
    Revoked,
    attestation_views,
    audit_views,
)
from labourledger.envelope import to_hex
from labourledger.grievances import GrievanceView, grievance_views
from labourledger.parallel import map_chunks
from labourledger.upstream import upstream_graph
from labourledger.verify.policy import production_dates
from labourledger.verify.source import EvidenceSource

__all__ = ["FACILITY_CHUNK", "BatchEvidence", "collect_evidence"]

#: How many facilities' evidence is gathered at a time.
FACILITY_CHUNK = 100
#: From this many facilities on, their evidence is gathered in a forked worker per core.
POOL_MIN_FACILITIES = 2 * FACILITY_CHUNK


@dataclass
class BatchEvidence:
    """A batch's trace and every entry its verdict depends on."""

    trace: dict[str, Any]
    #: Signed batch and product bodies by id, with the id.
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every entry the verdict depends on, once each, in order (a dict keeps both cheap).
    counted: dict[str, None] = field(default_factory=dict)
    facilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)
    audits: dict[str, list[AuditView]] = field(default_factory=dict)
    attestations: dict[str, list[AttestationView]] = field(default_factory=dict)
    transformations: list[dict[str, Any]] = field(default_factory=list)
    #: Every registration of each facility, in anchor order: they name its operators.
    registrations: dict[str, list[str]] = field(default_factory=dict)
    grievances: dict[str, list[GrievanceView]] = field(default_factory=dict)
    #: What each facility supplies, from the signed bodies of its supply links as supplier
    #: (counted in, so a bundle carries them and both sources judge the same texts).
    materials: dict[str, list[str]] = field(default_factory=dict)

    @property
    def entry_ids(self) -> list[str]:
        """The entries the verdict depends on, in the order they were counted in."""
        return list(self.counted)

    def add(self, *ids: str | None) -> None:
        """Count entries in, once each, in order."""
        self.counted.update((entry_id, None) for entry_id in ids if entry_id)


def _revoked(source: EvidenceSource) -> Revoked:
    def revoked(entry_ids: Iterable[str]) -> Mapping[str, list[str]]:
        return source.revocations(entry_ids).counted

    return revoked


def trace_of(source: EvidenceSource, batch: str) -> dict[str, Any]:
    """The batch's upstream graph, walked at its production date (today when unknown)."""
    batch_id = source.batch_id(batch)
    root = source.lookup("batch", [batch_id]).get(batch_id)
    on = root["produced_at"] if root else dt.datetime.now(dt.UTC).date().isoformat()
    rows = source.walk_upstream(batch_id, on=on)
    batches = source.lookup("batch", [r["id"] for r in rows if r["kind"] == "batch"])
    facility_ids = [
        batches[r["id"]]["facility"] if r["id"] in batches else r["id"]
        for r in rows
        if r["kind"] == "facility" or r["id"] in batches
    ]
    return upstream_graph(batch_id, rows, batches, source.lookup("facility", facility_ids))


def collect_evidence(source: EvidenceSource, batch: str) -> BatchEvidence:
    """Trace the batch and gather the entries about it and its upstream facilities."""
    trace = trace_of(source, batch)
    evidence = BatchEvidence(trace)
    nodes = sorted(trace["nodes"], key=lambda n: n["depth"])
    batch_nodes = [n["id"] for n in nodes if n["kind"] == "batch"]
    # The lookups only find the entries; what is reported comes from their signed bodies.
    batches = source.lookup("batch", batch_nodes)
    for entry in source.entries(
        [batches[b]["entry_id"] for b in batch_nodes if b in batches]
    ).values():
        evidence.batches[_hex(entry.subject)] = {"batch_id": _hex(entry.subject), **entry.body}
        evidence.add(_hex(entry.entry_id))
    products = source.lookup("product", [b["product"] for b in evidence.batches.values()])
    for entry in source.entries([p["entry_id"] for p in products.values()]).values():
        evidence.products[_hex(entry.subject)] = {"product_id": _hex(entry.subject), **entry.body}
        evidence.add(_hex(entry.entry_id))
    evidence.add(*(e["via"] for e in trace["edges"]))
    root_date = _date(evidence.batches.get(trace["batch"], {}).get("produced_at"))
    signed_nodes = [
        n | {"produced_at": b["produced_at"], "facility": b["facility"]}
        if (b := evidence.batches.get(n["id"]))
        else n
        for n in nodes
    ]
    evidence.dates = production_dates(signed_nodes, root_date or dt.date.today())
    registrations = source.lookup("facility", list(evidence.dates))
    registered = [f for f in evidence.dates if f in registrations]
    today = dt.datetime.now(dt.UTC).date()
    # A hundred facilities at a time: their timeline rows, bodies parsed, are dropped once
    # their views are built (all 1,000 of a large batch at once peaked 47 MB higher). Many
    # are gathered in forked workers, which send back the views.
    gather = functools.partial(_gathered, source, registrations, today)
    chunks = map_chunks(gather, registered, chunk=FACILITY_CHUNK, min_items=POOL_MIN_FACILITIES)
    for gathered in chunks:
        # A worker judges no revocation (that reads the chain): it took every entry it was
        # asked about as not revoked, and gathers again here if one was.
        if gathered.asked and source.revocations(gathered.asked).counted:
            ids = [f.facility_id for f in gathered.facilities]
            gathered = _gather(source, {f: registrations[f] for f in ids}, today, _revoked(source))
        for facility in gathered.facilities:
            facility.count_in(evidence)
    made = [e["via"] for e in trace["edges"] if e["kind"] == "transformation"]
    for entry_id, entry in source.entries(made).items():
        evidence.transformations.append({"entry_id": entry_id, **entry.body})
    evidence.add(*_withdrawn_lineage(source, batch_nodes, trace["edges"]))
    return evidence


def _withdrawn_lineage(
    source: EvidenceSource, batch_nodes: Sequence[str], edges: Iterable[Mapping[str, Any]]
) -> list[str]:
    """The transformations that made batches of the trace but were revoked, so the walk
    left them out (and went on over the facility's supply links if nothing else made the
    lot). Counted in, each gets the verdict's attention as withdrawn (a lot's own lineage,
    not just a supplier, was taken back); a bundle carries it with its revocation, so both
    sources judge it alike, and the chain's index, which lists it under the lot, finds it."""
    followed = {e["via"] for e in edges if e["kind"] == "transformation"}
    found = source.timelines(batch_nodes, "transformation") if batch_nodes else {}
    made = [row["entry_id"] for rows in found.values() for row in rows]
    unfollowed = [entry_id for entry_id in made if entry_id not in followed]
    counted = source.revocations(unfollowed).counted if unfollowed else {}
    return [entry_id for entry_id in unfollowed if entry_id in counted]


@dataclass
class _Facility:
    """A registered facility's evidence, as `collect_evidence` counts it in."""

    facility_id: str
    #: The first registration's entry id, and its body.
    entry_id: str
    body: dict[str, Any]
    registrations: list[str]
    audits: list[AuditView]
    attestations: list[AttestationView]
    grievances: list[GrievanceView]
    #: Its supply links as supplier: entry id and material, from their signed bodies.
    supplies: list[tuple[str, str]]

    def count_in(self, evidence: BatchEvidence) -> None:
        """Count in the facility's registrations, audits, attestations, grievances and the
        supply links it supplies through."""
        facility_id = self.facility_id
        evidence.facilities[facility_id] = {"facility_id": facility_id, **self.body}
        evidence.add(self.entry_id)
        evidence.registrations[facility_id] = self.registrations
        evidence.add(*self.registrations)
        evidence.audits[facility_id] = self.audits
        for audit in self.audits:
            evidence.add(audit.entry_id)
            for finding in audit.findings:
                evidence.add(*(step.entry_id for step in finding.history))
        evidence.attestations[facility_id] = self.attestations
        evidence.add(*(a.entry_id for a in self.attestations))
        evidence.grievances[facility_id] = self.grievances
        for grievance in self.grievances:
            evidence.add(*(step.entry_id for step in grievance.history))
        evidence.materials[facility_id] = [material for _, material in self.supplies]
        evidence.add(*(entry_id for entry_id, _ in self.supplies))


@dataclass
class _Gathered:
    """Some facilities' evidence, and every entry whose revocations it took as none."""

    facilities: list[_Facility]
    asked: list[str]


def _gathered(
    source: EvidenceSource,
    registrations: Mapping[str, Mapping[str, Any]],
    today: dt.date,
    facility_ids: Sequence[str],
) -> list[_Gathered]:
    """The evidence of `facility_ids`, every entry taken as not revoked (in a worker, for
    many: judging a revocation reads the chain, which a worker must not)."""
    asked: list[str] = []

    def unrevoked(entry_ids: Iterable[str]) -> Mapping[str, list[str]]:
        asked.extend(entry_ids)
        return {}

    found = _gather(source, {f: registrations[f] for f in facility_ids}, today, unrevoked)
    return [_Gathered(found.facilities, asked)]


def _gather(
    source: EvidenceSource,
    registrations: Mapping[str, Mapping[str, Any]],
    today: dt.date,
    revoked: Revoked,
) -> _Gathered:
    """The registered facilities' registrations, audits, attestations and grievances,
    facility by facility, with the revocations `revoked` says count."""
    registered = list(registrations)
    bodies = source.entries([registrations[f]["entry_id"] for f in registered])
    audits = audit_views(source.timelines, revoked, registered)
    attestations = attestation_views(source.timelines, revoked, registered, today)
    timelines = source.timelines(registered, "facility")
    grievances = grievance_views(source.timelines, revoked, registered)
    links = source.supplies(registered)
    # The mirror's rows only find the links: what they say comes from their signed bodies.
    said = source.entries([row["entry_id"] for rows in links.values() for row in rows])
    supplies = {
        facility_id: [
            (row["entry_id"], str(said[row["entry_id"]].body["material"])) for row in rows
        ]
        for facility_id, rows in links.items()
    }
    return _Gathered(
        [
            _Facility(
                facility_id,
                registrations[facility_id]["entry_id"],
                bodies[registrations[facility_id]["entry_id"]].body,
                [r["entry_id"] for r in timelines[facility_id]],
                audits.get(facility_id, []),
                attestations.get(facility_id, []),
                grievances.get(facility_id, []),
                supplies.get(facility_id, []),
            )
            for facility_id in registered
        ],
        [],
    )


def _hex(value: bytes) -> str:
    return to_hex(value)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
