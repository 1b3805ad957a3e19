"""The HTML tracing report is self-contained and escapes what other parties wrote."""

from __future__ import annotations

import re
from pathlib import Path

from labourledger.report import render_report, write_report

EVIL = "<script>alert(1)</script>"


def _report() -> dict[str, object]:
    facility = {
        "facility_id": "0x" + "aa" * 32,
        "name": EVIL,
        "country": "IN",
        "os_id": "IN2024007SPNC3S",
    }
    return {
        "format": "labourledger-report/1",
        "verdict": "FAIL",
        "batch": {"batch_id": "0x" + "bb" * 32, "lot": "L-1"},
        "chain": {
            "label": "embedded",
            "chain_id": 1,
            "contract": "0x" + "cc" * 20,
            "embedded": True,
        },
        "checks": [
            {
                "check": "forced_labour_findings",
                "outcome": "fail",
                "reason": "F-1 open",
                "entry_id": None,
                "facility": facility["facility_id"],
            },
        ],
        "stages": [
            {
                "tier": 3,
                "facility": facility,
                "documents": [{"type": "invoice", "number": "INV-9", "hash": "0x" + "dd" * 32}],
                "audits": [
                    {
                        "body": {"standard": "SMETA 4-pillar", "notice": "unannounced"},
                        "anchor": {"block_number": 12, "timestamp": 1_767_225_600},
                        "findings": [
                            {
                                "id": "F-1",
                                "severity": "critical",
                                "status": "open",
                                "ilo_indicators": ["debt_bondage"],
                                "description": "fees",
                                "history": [
                                    {
                                        "status": "open",
                                        "state": "anchored",
                                        "anchor": {"block_number": 12},
                                    }
                                ],
                            },
                        ],
                    }
                ],
                "outcome": "fail",
            }
        ],
        "graph": {
            "nodes": [
                {"id": "0x" + "bb" * 32, "kind": "batch", "label": "lot L-1", "tier": 1},
                {"id": "0x" + "ee" * 32, "kind": "batch", "label": "lot Y-1", "tier": 3},
            ],
            "edges": [{"from": "0x" + "bb" * 32, "to": "0x" + "ee" * 32}],
        },
        "entries": [{"entry_id": "0x01", "kind": "audit", "anchor": {"tx_hash": "0x" + "ff" * 32}}],
    }


def test_report_is_self_contained_complete_and_escaped(tmp_path: Path) -> None:
    html = render_report(_report())
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "Verdict: FAIL" in html and "local development chain" in html
    for text in ("debt_bondage", "0x" + "dd" * 32, "0x" + "ff" * 32, "block 12, 2026-01-01"):
        assert text in html
    assert html.count("<rect") == 2 and html.count("<line") == 1
    path = write_report(_report(), tmp_path / "r.html")
    assert path.read_text(encoding="utf-8") == html


def test_minimal_report_still_renders() -> None:
    html = render_report(
        {"format": "labourledger-report/1", "verdict": "PASS", "batch": {}, "checks": []}
    )
    assert "Verdict: PASS" in html and "0 of 0 checks passed" in html
    assert "Nothing failed and nothing needs attention" in html


def test_long_facility_names_are_cut_in_the_graph_but_whole_in_its_tooltip() -> None:
    report = _report()
    name = "Southern Integrated Ginning and Spinning Cooperative"
    report["graph"]["nodes"][1] |= {"facility_name": name}  # type: ignore[index]
    html = render_report(report)
    assert f"<title>{name}</title>" in html
    assert f">{name[:33]}\u2026</text>" in html and f">{name}</text>" not in html
    assert "Nothing failed" not in html
