"""The tracing report: one self-contained, printable HTML file per verified batch.

It lays out what US customs asks for under UFLPA: every production stage from
raw material to the finished batch, with its facility, business-record hashes,
audit evidence and findings, the anchor references, and the verdict with its
reasons. Every value is escaped: bodies come from other parties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from html import escape
from pathlib import Path
from typing import Any

__all__ = ["render_report", "write_report"]

_COLOURS = {"PASS": "#1e7b34", "ATTENTION": "#a86400", "FAIL": "#b3261e"}
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1b1b1b}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.5em 0}
td,th{border:1px solid #d5d5d5;padding:.25em .45em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.mono{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.short,code{white-space:nowrap}
.verdict{color:#fff;padding:.6em 1em;font-size:1.6em;font-weight:bold;border-radius:4px}
.warning{border:2px solid #a86400;padding:.5em 1em;margin:1em 0;font-weight:bold}
.stage{border:1px solid #ccc;border-radius:4px;padding:.2em 1em;margin:1em 0}
.pass{color:#1e7b34}.attention{color:#a86400}.fail{color:#b3261e}
@media print{body{margin:0;max-width:none}.stage{break-inside:avoid}
.verdict{color:#000;border:3px solid #000;background:none!important}}
"""


_SHORT = 16
#: Characters of a facility name that fit a graph box; longer names are cut, whole in a tooltip.
_LABEL = 34


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _rows(headers: Iterable[str], rows: Iterable[Iterable[object]], mono: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="mono">{_e(v)}</td>'
            if i in mono
            # Ids and dates must not break at their hyphens when long text squeezes them.
            else f'<td class="short">{_e(v)}</td>'
            if len(str(v)) <= _SHORT
            else f"<td>{_e(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _when(anchor: Mapping[str, Any] | None) -> str:
    if not anchor:
        return "not anchored"
    moment = ""
    if anchor.get("timestamp"):
        stamp = dt.datetime.fromtimestamp(anchor["timestamp"], tz=dt.timezone.utc)
        moment = ", " + stamp.strftime("%Y-%m-%d")
    return f"block {anchor.get('block_number')}{moment}"


def _graph(graph: Mapping[str, Any]) -> str:
    """The provenance graph as inline SVG: one column per tier, raw material on the left."""
    nodes = sorted(graph.get("nodes", []), key=lambda n: str(n["id"]))
    columns: dict[int, list[Mapping[str, Any]]] = {}
    for node in nodes:
        columns.setdefault(-(node.get("tier") or 0), []).append(node)
    width, height, gap_x, gap_y = 200, 54, 60, 22
    place: dict[str, tuple[int, int]] = {}
    parts = []
    for col, key in enumerate(sorted(columns)):
        for row, node in enumerate(columns[key]):
            x, y = 10 + col * (width + gap_x), 10 + row * (height + gap_y)
            place[node["id"]] = (x, y)
            tier = f"tier {node['tier']}" if node.get("tier") else "tier ?"
            name = str(node.get("facility_name") or "")
            short = name if len(name) <= _LABEL else name[: _LABEL - 1] + "\u2026"
            parts.append(
                f"<g><title>{_e(name)}</title>"
                f'<rect x="{x}" y="{y}" width="{width}" height="{height}" rx="4" '
                f'fill="#f7f7f7" stroke="#555"/>'
                f'<text x="{x + 6}" y="{y + 17}" font-size="12" font-weight="bold">'
                f"{_e(node.get('label'))} ({_e(tier)})</text>"
                f'<text x="{x + 6}" y="{y + 34}" font-size="10">{_e(short)}</text>'
                f'<text x="{x + 6}" y="{y + 48}" font-size="11">{_e(node.get("country"))}</text>'
                "</g>"
            )
    lines = []
    for edge in graph.get("edges", []):
        if edge["from"] in place and edge["to"] in place:
            (x1, y1), (x2, y2) = place[edge["to"]], place[edge["from"]]
            lines.append(
                f'<line x1="{x1 + width}" y1="{y1 + height // 2}" x2="{x2}" '
                f'y2="{y2 + height // 2}" stroke="#333" marker-end="url(#arrow)"/>'
            )
    total_w = 20 + len(columns) * (width + gap_x)
    total_h = 20 + max((len(c) for c in columns.values()), default=1) * (height + gap_y)
    marker = (
        '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#333"/></marker></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
        f'role="img" aria-label="provenance graph">{marker}{"".join(lines)}{"".join(parts)}</svg>'
    )


def _stage(stage: Mapping[str, Any]) -> str:
    f = stage.get("facility") or {}
    ids = ", ".join(f"{k.upper()} {f[k]}" for k in ("os_id", "gln", "lei") if f.get(k))
    html = [
        '<div class="stage">',
        f"<h3>Tier {_e(stage.get('tier'))}: {_e(f.get('name'))} ({_e(f.get('country'))})"
        f' <span class="{_e(stage.get("outcome"))}">{_e(stage.get("outcome"))}</span></h3>',
        f"<p>{_e(f.get('facility_type'))}; {_e(f.get('address'))}<br>{_e(ids)}"
        f'<br><span class="mono">{_e(f.get("facility_id"))}</span></p>',
    ]
    if stage.get("batches"):
        html.append(
            _rows(
                ("batch", "lot", "produced", "quantity"),
                (
                    (b.get("batch_id"), b.get("lot"), b.get("produced_at"),
                     f"{b.get('quantity')} {b.get('unit') or ''}")
                    for b in stage["batches"]
                ),
                {0},
            )
        )  # fmt: skip
    if stage.get("documents"):
        html.append("<h4>Business records (salted hashes)</h4>")
        html.append(
            _rows(
                ("type", "number", "hash"),
                ((d.get("type"), d.get("number"), d.get("hash")) for d in stage["documents"]),
                {2},
            )
        )
    for audit in stage.get("audits", []):
        body = audit.get("body") or {}
        html.append(
            f"<h4>Audit: {_e(body.get('standard'))}, {_e(body.get('notice'))}, "
            f"{_e(body.get('start_date'))} to {_e(body.get('end_date'))}, "
            f"result {_e(body.get('result'))}; {_e(_when(audit.get('anchor')))}</h4>"
        )
        findings = [
            (
                f.get("id"),
                f.get("severity"),
                ", ".join(f.get("ilo_indicators") or []),
                f.get("description"),
                f.get("status"),
                " -> ".join(
                    f"{h.get('status')} ({h.get('state')}, {_when(h.get('anchor'))})"
                    for h in f.get("history", [])
                ),
            )
            for f in audit.get("findings", [])
        ]
        if findings:
            html.append(
                _rows(("id", "severity", "ILO indicators", "finding", "status", "history"),
                      findings, set())
            )  # fmt: skip
    if stage.get("attestations"):
        html.append("<h4>Declarations and certificates</h4>")
        html.append(
            _rows(
                ("claim", "valid", "in force"),
                (
                    (a.get("claim"), f"{a.get('valid_from')} to {a.get('valid_until')}",
                     "yes" if a.get("in_force") else "no")
                    for a in stage["attestations"]
                ),
                set(),
            )
        )  # fmt: skip
    html.append("</div>")
    return "".join(html)


def render_report(report: Mapping[str, Any]) -> str:
    """The report as one HTML document (no external resources, no scripts)."""
    verdict = str(report.get("verdict", "FAIL"))
    batch = report.get("batch") or {}
    product = batch.get("product") or {}
    chain = report.get("chain") or {}
    stages = report.get("stages") or []
    names = {(s.get("facility") or {}).get("facility_id"): s["facility"]["name"] for s in stages}
    checks = report.get("checks") or []
    reasons: dict[str, list[Mapping[str, Any]]] = {}
    for check in checks:
        if check.get("outcome") != "pass":
            where = names.get(check.get("facility"), "Batch and evidence")
            reasons.setdefault(str(where), []).append(check)
    passed = sum(c.get("outcome") == "pass" for c in checks)
    html = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Tracing report: lot {_e(batch.get('lot'))}</title><style>{_CSS}</style></head>",
        "<body><h1>Labour provenance tracing report</h1>",
        f"<p>{_e(product.get('name'))} ({_e(product.get('brand'))}, GTIN "
        f"{_e(product.get('gtin'))}, SKU {_e(product.get('sku'))}); lot {_e(batch.get('lot'))}, "
        f"{_e(batch.get('quantity'))} {_e(batch.get('unit'))}, produced "
        f"{_e(batch.get('produced_at'))}<br>batch "
        f'<span class="mono">{_e(batch.get("batch_id"))}</span><br>'
        f"generated {_e(report.get('generated_at'))}</p>",
        f'<div class="verdict" style="background:{_COLOURS.get(verdict, "#b3261e")}">'
        f"Verdict: {_e(verdict)}</div>",
    ]
    if chain.get("embedded"):
        html.append(
            '<div class="warning">Evidence anchored only on a local development chain '
            "(embedded): it proves nothing to a third party.</div>"
        )
    html.append("<h2>Reasons</h2>")
    if not reasons:
        html.append("<p>Nothing failed and nothing needs attention.</p>")
    for where, items in reasons.items():
        html.append(f"<h3>{_e(where)}</h3><ul>")
        html += [
            f'<li><span class="{_e(c.get("outcome"))}">{_e(c.get("outcome"))}</span> '
            f"{_e(c.get('check'))}: {_e(c.get('reason'))}</li>"
            for c in items
        ]
        html.append("</ul>")
    html.append(f"<p>{passed} of {len(checks)} checks passed.</p>")
    html.append("<h2>Provenance graph</h2>" + _graph(report.get("graph") or {}))
    html.append("<h2>Production stages, raw material first</h2>")
    html += [_stage(s) for s in stages]
    problems = report.get("problems") or []
    if problems:
        html.append("<h2>Trace problems</h2><ul>")
        html += [f"<li>{_e(p.get('kind'))}: {_e(p.get('reason'))}</li>" for p in problems]
        html.append("</ul>")
    html.append("<h2>Anchor references</h2>")
    html.append(
        f"<p>The roots below are held by contract "
        f'<span class="mono">{_e(chain.get("contract"))}</span> on chain '
        f"{_e(chain.get('label'))} (chain id {_e(chain.get('chain_id'))}); an entry without "
        "a root is not anchored. Re-check it yourself with "
        "<code>labourledger verify --bundle BUNDLE.json --chain RPC_URL</code>.</p>"
    )
    html.append(
        _rows(
            ("entry", "kind", "issuer", "root", "tx", "block"),
            (
                (e.get("entry_id"), e.get("kind"), e.get("issuer"),
                 *((e.get("anchor") or {}).get(k) for k in ("root", "tx_hash", "block_number")))
                for e in report.get("entries") or []
            ),
            {0, 2, 3, 4},
        )
    )  # fmt: skip
    html.append("</body></html>")
    return "\n".join(html)


def write_report(report: Mapping[str, Any], path: Path) -> Path:
    """Write the report to `path` (UTF-8); returns the path."""
    path.write_text(render_report(report), encoding="utf-8")
    return path
