"""Typed rows derived from entry bodies, so provenance can be queried with SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table

from labourledger.mirror import schema

__all__ = ["rows_for"]

Rows = list[tuple[Table, dict[str, Any]]]


def _facility(body: Mapping[str, Any], subject: str) -> Rows:
    return [
        (
            schema.facilities,
            {
                "facility_id": subject,
                "name": body["name"],
                "country": body["country"],
                "address": body["address"],
                "os_id": body.get("os_id"),
                "facility_type": body.get("facility_type"),
                "tier": body["tier"],
                "worker_count": body.get("worker_count"),
                "worker_band": body.get("worker_band"),
                "parent_company": body.get("parent_company"),
            },
        )
    ]


def _pick(table: Table, *fields: str, subject_as: str | None = None) -> Projection:
    """A projection copying `fields` of the body, plus the subject as `subject_as`."""

    def project(body: Mapping[str, Any], subject: str) -> Rows:
        row = {f: body.get(f) for f in fields}
        if subject_as:
            row[subject_as] = subject
        return [(table, row)]

    return project


def _audit(body: Mapping[str, Any], subject: str) -> Rows:
    rows = _pick(
        schema.audits,
        "facility",
        "standard",
        "audit_type",
        "notice",
        "start_date",
        "end_date",
        "valid_until",
        "result",
    )(body, subject)
    for finding in body.get("findings", []):
        rows.append(
            (
                schema.findings,
                {
                    "finding_id": finding["id"],
                    "severity": finding["severity"],
                    "status": finding.get("status", "open"),
                    "ilo_indicators": finding.get("ilo_indicators", []),
                },
            )
        )
    return rows


def _edge(
    parent: str,
    child: str,
    child_kind: str,
    valid_from: str | None = None,
    valid_to: str | None = None,
) -> Rows:
    row = {"parent": parent, "child": child, "child_kind": child_kind}
    return [(schema.edges, row | {"valid_from": valid_from, "valid_to": valid_to})]


def _transformation(body: Mapping[str, Any], subject: str) -> Rows:
    rows = _pick(schema.transformations, "output", "facility", "date")(body, subject)
    for batch in body["inputs"]:
        rows += [(schema.transformation_inputs, {"input": batch})]
        rows += _edge(body["output"], batch, "batch")
    return rows


def _supply_link(body: Mapping[str, Any], subject: str) -> Rows:
    rows = _pick(schema.supply_links, "supplier", "buyer", "material", "valid_from", "valid_to")(
        body, subject
    )
    return rows + _edge(
        body["buyer"], body["supplier"], "facility", body["valid_from"], body.get("valid_to")
    )


Projection = Callable[[Mapping[str, Any], str], Rows]

_PROJECTIONS: dict[str, Projection] = {
    "facility": _facility,
    "supply_link": _supply_link,
    "attestation": _pick(schema.attestations, "facility", "claim", "valid_from", "valid_until"),
    "audit": _audit,
    "finding_update": _pick(schema.finding_updates, "audit", "finding_id", "status", "verified_on"),
    "product": _pick(schema.products, "gtin", "sku", "name", "brand", subject_as="product_id"),
    "batch": _pick(
        schema.batches,
        "product",
        "lot",
        "quantity",
        "unit",
        "produced_at",
        "facility",
        subject_as="batch_id",
    ),
    "transformation": _transformation,
    "revocation": _pick(schema.revocations, "target", "reason"),
}


def rows_for(entry_id: str, kind: str, body: Mapping[str, Any], subject: str) -> Rows:
    """The projection rows of one entry, each keyed to it (findings by their audit); none
    for kinds queried by subject alone (grievances)."""
    project = _PROJECTIONS.get(kind)
    rows = project(body, subject) if project else []
    for table, row in rows:
        row["audit" if table is schema.findings else "entry_id"] = entry_id
    return rows
