"""A batch's upstream graph: the walk over transformations and supply links, and the graph
(nodes, edges, problems) built from its rows.

The mirror walks in SQL (`Mirror.walk_upstream`); a bundle, held in memory, walks here with
the same rules. Both build their graph with `upstream_graph`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Edge", "upstream_graph", "walk_upstream"]

#: As deep as the mirror's walk goes.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Edge:
    """One step upstream: from a batch to an input batch (a transformation), or from a buyer
    facility to a supplier (a supply link, valid from/to the given ISO dates)."""

    parent: str
    child: str
    child_kind: str
    via: str
    valid_from: str | None = None
    valid_to: str | None = None

    def valid_on(self, on: str) -> bool:
        """Whether the edge holds on `on` (an ISO date)."""
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or self.valid_to >= on
        )


def walk_upstream(
    batch_id: str,
    *,
    on: str,
    edges: Iterable[Edge],
    hop: Callable[[str], str | None],
    max_depth: int = MAX_DEPTH,
) -> list[dict[str, Any]]:
    """The rows `Mirror.walk_upstream` gives, walked in memory: one per path step, ordered
    by depth then id. `hop(batch)` is where a batch's parents are looked up (the batch
    itself when a transformation made it, else its facility; None when unknown); `edges`
    are those that count (revoked ones left out by the caller)."""
    by_parent: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.valid_on(on):
            by_parent.setdefault(edge.parent, []).append(edge)
    root = batch_id.lower()
    start = {"kind": "batch", "id": root, "parent": None, "via": None, "depth": 0, "cycle": 0}
    rows: list[dict[str, Any]] = [start]
    frontier: list[tuple[dict[str, Any], str | None, tuple[str, ...]]] = [
        (start, hop(root), (root,))
    ]
    while frontier:
        step = []
        for row, at, path in frontier:
            if row["cycle"] or row["depth"] >= max_depth or at is None:
                continue
            for edge in by_parent.get(at, []):
                child = {
                    "kind": edge.child_kind,
                    "id": edge.child,
                    "parent": row["id"],
                    "via": edge.via,
                    "depth": row["depth"] + 1,
                    "cycle": int(edge.child in path),
                }
                rows.append(child)
                child_hop = edge.child if edge.child_kind == "facility" else hop(edge.child)
                step.append((child, child_hop, (*path, edge.child)))
        frontier = step
    return sorted(rows, key=lambda r: (r["depth"], r["id"]))


def upstream_graph(
    batch_id: str,
    rows: Iterable[Mapping[str, Any]],
    batches: Mapping[str, Mapping[str, Any]],
    facilities: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    """The graph of a walk: nodes (batches and facilities, named from `batches` and
    `facilities`, their first registrations), edges, and problems (cycles, unknown
    batches, facilities with nothing recorded upstream short of tier 4)."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: dict[tuple[str, str], dict[str, Any]] = {}
    problems: list[dict[str, Any]] = []
    for row in rows:
        if row["parent"] is not None:
            kind = "transformation" if row["kind"] == "batch" else "supply_link"
            edges.setdefault(
                (row["parent"], row["id"]),
                {"from": row["parent"], "to": row["id"], "via": row["via"], "kind": kind},
            )
        if row["cycle"]:
            problems.append(
                {
                    "kind": "cycle",
                    "node": row["id"],
                    "reason": f"{row['kind']} {row['id']} is upstream of itself "
                    f"(via {row['via']}); not followed further",
                }
            )
            continue
        if row["id"] not in nodes:
            nodes[row["id"]] = _node(row, batches, facilities)
    parents = {e["from"] for e in edges.values()}
    for node in nodes.values():
        if node["kind"] == "batch" and node.get("lot") is None:
            problems.append(
                {
                    "kind": "unknown_batch",
                    "node": node["id"],
                    "reason": f"batch {node['id']} is not registered here",
                }
            )
        elif node["id"] not in parents and node.get("tier") != 4:
            problems.append(
                {
                    "kind": "missing_link",
                    "node": node["id"],
                    "reason": f"{node.get('facility_name') or node['id']} "
                    f"(tier {node.get('tier', '?')}): nothing recorded upstream, "
                    "so the trace stops short of raw material",
                }
            )
    return {
        "batch": batch_id,
        "nodes": list(nodes.values()),
        "edges": list(edges.values()),
        "problems": problems,
    }


def _node(
    row: Mapping[str, Any],
    batches: Mapping[str, Mapping[str, Any]],
    facilities: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    node: dict[str, Any] = {"id": row["id"], "kind": row["kind"], "depth": row["depth"]}
    facility_id = row["id"]
    if row["kind"] == "batch":
        found = batches.get(row["id"])
        if found is None:
            return node | {"lot": None}
        facility_id = found["facility"]
        node |= {
            "lot": found["lot"],
            "product": found["product"],
            "quantity": found["quantity"],
            "unit": found["unit"],
            "produced_at": found["produced_at"],
        }
    facility = facilities.get(facility_id)
    node["facility"] = facility_id
    if facility is not None:
        node |= {
            "facility_name": facility["name"],
            "country": facility["country"],
            "tier": facility["tier"],
            "os_id": facility.get("os_id"),
        }
    return node
