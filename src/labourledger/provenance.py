"""Provenance: product and batch ids from what people call them, and a batch's upstream
graph of batches and facilities with each facility's audit status."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING, Any

from labourledger.errors import InputError
from labourledger.grievances import counts_of
from labourledger.upstream import upstream_graph
from labourledger.verify.policy import audit_status_on, production_dates

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = ["batch_id", "product_id", "trace", "trace_with_audits"]


def _resolve(ledger: Ledger, ref: str, table: str, key: str, by: tuple[str, ...], what: str) -> str:
    """An id from a 0x id, or from a unique value of one of the `by` columns."""
    if ref.startswith("0x") and len(ref) == 66:
        return ref.lower()
    matches: set[str] = {
        str(row[key])
        for column in by
        for row in ledger.mirror.lookup(table, column, [ref]).values()
    }
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        raise InputError(f"{what} {ref}: not found here; give its 0x id or add it first")
    raise InputError(f"{what} {ref}: matches {len(matches)} {what}s; give its 0x id")


def product_id(ledger: Ledger, ref: str) -> str:
    """A product id from its 0x id, GTIN or SKU."""
    return _resolve(ledger, ref, "products", "product_id", ("gtin", "sku"), "product")


def batch_id(ledger: Ledger, ref: str) -> str:
    """A batch id from its 0x id or its lot (when only one batch has that lot)."""
    return _resolve(ledger, ref, "batches", "batch_id", ("lot",), "batch")


def trace(ledger: Ledger, batch: str) -> dict[str, Any]:
    """The upstream graph of a batch: nodes (batches and facilities, with tier and
    audit status), edges to inputs and suppliers, and problems (cycles, gaps).
    Supply links count when valid on the batch's production date."""
    return trace_with_audits(ledger, batch)[0]


def trace_with_audits(
    ledger: Ledger, batch: str
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """`trace`, and the audits of its registered facilities as `audits_of` gives them,
    read once for callers that need both."""
    root_id = batch_id(ledger, batch)
    root = ledger.mirror.lookup("batches", "batch_id", [root_id]).get(root_id)
    on = root["produced_at"] if root else time.strftime("%Y-%m-%d", time.gmtime())
    rows = ledger.mirror.walk_upstream(root_id, on=on, counted=ledger.revoked)
    batches = ledger.mirror.lookup(
        "batches", "batch_id", [r["id"] for r in rows if r["kind"] == "batch"]
    )
    facility_ids = [
        batches[r["id"]]["facility"] if r["id"] in batches else r["id"]
        for r in rows
        if r["kind"] == "facility" or r["id"] in batches
    ]
    facilities = ledger.mirror.lookup("facilities", "facility_id", facility_ids)
    graph = upstream_graph(root_id, rows, batches, facilities)
    nodes = {n["id"]: n for n in graph["nodes"]}
    registered = [n["facility"] for n in nodes.values() if "facility_name" in n]
    audits = ledger.audits_of(registered)
    grievances = counts_of(ledger, registered)
    made = production_dates(list(nodes.values()), dt.date.fromisoformat(on))
    policy = ledger.policy()
    for node in nodes.values():
        if "facility_name" in node:
            node["audit_status"] = audit_status_on(
                audits.get(node["facility"], []), made[node["facility"]], policy
            )
            node["grievances"] = grievances[node["facility"]].to_dict()
    return graph, audits
