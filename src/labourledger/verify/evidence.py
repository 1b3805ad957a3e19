"""A batch's evidence, gathered from any `EvidenceSource`: its trace, and every entry its
verdict depends on, with the facilities, audits, attestations and grievances they hold."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labourledger.audits import AttestationView, AuditView, attestation_views, audit_views
from labourledger.envelope import to_hex
from labourledger.grievances import GrievanceView, grievance_views
from labourledger.upstream import upstream_graph
from labourledger.verify.policy import production_dates
from labourledger.verify.source import EvidenceSource

__all__ = ["FACILITY_CHUNK", "BatchEvidence", "collect_evidence"]

#: How many facilities' evidence is gathered at a time.
FACILITY_CHUNK = 100


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

    @property
    def entry_ids(self) -> list[str]:
        """The entries the verdict depends on, in the order they were counted in."""
        return list(self.counted)

    def add(self, *ids: str | None) -> None:
        """Count entries in, once each, in order."""
        self.counted.update((entry_id, None) for entry_id in ids if entry_id)


def _revoked(source: EvidenceSource) -> Any:
    def revoked(entry_ids: Iterable[str]) -> Mapping[str, list[str]]:
        return source.revocations(entry_ids).counted

    return revoked


def trace_of(source: EvidenceSource, batch: str) -> dict[str, Any]:
    """The batch's upstream graph, walked at its production date (today when unknown)."""
    batch_id = source.batch_id(batch)
    root = source.lookup("batch", [batch_id]).get(batch_id)
    on = root["produced_at"] if root else dt.datetime.now(dt.timezone.utc).date().isoformat()
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
    today = dt.datetime.now(dt.timezone.utc).date()
    # A hundred facilities at a time: their timeline rows, bodies parsed, are dropped once
    # their views are built (all 1,000 of a large batch at once peaked 47 MB higher).
    for start in range(0, len(registered), FACILITY_CHUNK):
        chunk = registered[start : start + FACILITY_CHUNK]
        _gather_facilities(source, evidence, {f: registrations[f] for f in chunk}, today)
    made = [e["via"] for e in trace["edges"] if e["kind"] == "transformation"]
    for entry_id, entry in source.entries(made).items():
        evidence.transformations.append({"entry_id": entry_id, **entry.body})
    return evidence


def _gather_facilities(
    source: EvidenceSource,
    evidence: BatchEvidence,
    registrations: Mapping[str, Mapping[str, Any]],
    today: dt.date,
) -> None:
    """Count in the registered facilities' registrations, audits, attestations and
    grievances, facility by facility."""
    registered = list(registrations)
    revoked = _revoked(source)
    bodies = source.entries([registrations[f]["entry_id"] for f in registered])
    audits = audit_views(source.timelines, revoked, registered)
    attestations = attestation_views(source.timelines, revoked, registered, today)
    timelines = source.timelines(registered, "facility")
    grievances = grievance_views(source.timelines, revoked, registered)
    for facility_id in registered:
        entry_id = registrations[facility_id]["entry_id"]
        evidence.facilities[facility_id] = {"facility_id": facility_id, **bodies[entry_id].body}
        evidence.add(entry_id)
        evidence.registrations[facility_id] = [r["entry_id"] for r in timelines[facility_id]]
        evidence.add(*evidence.registrations[facility_id])
        evidence.audits[facility_id] = audits.get(facility_id, [])
        for audit in evidence.audits[facility_id]:
            evidence.add(audit.entry_id)
            for finding in audit.findings:
                evidence.add(*(step.entry_id for step in finding.history))
        evidence.attestations[facility_id] = attestations.get(facility_id, [])
        evidence.add(*(a.entry_id for a in evidence.attestations[facility_id]))
        evidence.grievances[facility_id] = grievances.get(facility_id, [])
        for grievance in evidence.grievances[facility_id]:
            evidence.add(*(step.entry_id for step in grievance.history))


def _hex(value: bytes) -> str:
    return to_hex(value)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None
