"""The tier graph of a batch page and HTML report: a trace's batches laid out for SVG."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Box", "GraphView", "tier_graph"]

#: Characters of a facility name that fit a graph box; longer names are cut, whole in a tooltip.
_LABEL = 34
_BOX_W, _BOX_H, _GAP_X, _GAP_Y = 200, 54, 60, 22


@dataclass(frozen=True)
class Box:
    """A batch drawn in the tier graph."""

    x: int
    y: int
    label: str
    short_name: str
    name: str
    country: str


@dataclass(frozen=True)
class GraphView:
    """The tier graph laid out for SVG: raw material on the left."""

    width: int
    height: int
    box_width: int
    box_height: int
    boxes: list[Box]
    lines: list[tuple[int, int, int, int]]


def tier_graph(graph: Mapping[str, Any]) -> GraphView:
    """Lay out a trace's nodes (batches) in columns by tier, raw material on the left, with a
    line from each input to the batch made from it."""
    nodes = sorted(graph.get("nodes") or [], key=lambda n: str(n["id"]))
    columns: dict[int, list[Mapping[str, Any]]] = {}
    for node in nodes:
        columns.setdefault(-(node.get("tier") or 0), []).append(node)
    place: dict[str, tuple[int, int]] = {}
    boxes = []
    for col, key in enumerate(sorted(columns)):
        for row, node in enumerate(columns[key]):
            x, y = 10 + col * (_BOX_W + _GAP_X), 10 + row * (_BOX_H + _GAP_Y)
            place[node["id"]] = (x, y)
            tier = f"tier {node['tier']}" if node.get("tier") else "tier ?"
            name = str(node.get("facility_name") or "")
            short = name if len(name) <= _LABEL else name[: _LABEL - 1] + "\u2026"
            label = f"{node.get('label') or ''} ({tier})"
            boxes.append(Box(x, y, label, short, name, str(node.get("country") or "")))
    lines = [
        (place[e["to"]][0] + _BOX_W, place[e["to"]][1] + _BOX_H // 2,
         place[e["from"]][0], place[e["from"]][1] + _BOX_H // 2)
        for e in graph.get("edges") or []
        if e["from"] in place and e["to"] in place
    ]  # fmt: skip
    height = 20 + max((len(c) for c in columns.values()), default=1) * (_BOX_H + _GAP_Y)
    return GraphView(20 + len(columns) * (_BOX_W + _GAP_X), height, _BOX_W, _BOX_H, boxes, lines)
