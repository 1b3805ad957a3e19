"""The HTML tracing report is self-contained, escapes what other parties wrote, and reads
in the order and words a customs officer needs."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from labourledger.errors import InputError
from labourledger.presentation import (
    Annotations,
    Party,
    batch_view,
    check_title,
    is_development_chain,
)
from labourledger.report import render_report, write_report
from labourledger.verify.verdict import REPORT_FORMAT

EVIL = "<script>alert(1)</script>"
FACILITY = "0x" + "aa" * 32
REVOCATION = "0x" + "99" * 32


def _report() -> dict[str, Any]:
    facility = {"facility_id": FACILITY, "name": EVIL, "country": "IN", "os_id": "IN2024007SPNC3S"}
    root = "0x" + "12" * 32
    return {
        "format": REPORT_FORMAT,
        "verdict": "FAIL",
        "batch": {
            "batch_id": "0x" + "bb" * 32,
            "lot": "L-1",
            "product": {"gtin": "8951234000712", "sku": None, "name": "Drill", "brand": "Voltaris"},
        },
        "chain": {"label": "embedded", "chain_id": 1, "contract": "0x" + "cc" * 20,
                  "embedded": True},
        "goods_list": {"edition": "2024 (as of September 5, 2024)", "coverage": "apparel only"},
        "checks": [
            {"check": "not_revoked", "outcome": "attention",
             "reason": f"audit withdrawn by {REVOCATION}: not counted", "entry_id": "0x03",
             "facility": None},
            {"check": "forced_labour_findings", "outcome": "fail",
             "reason": f"{EVIL}: F-1 open", "entry_id": None, "facility": FACILITY},
        ],
        "stages": [
            {
                "tier": 3,
                "facility": facility,
                "batches": [{"batch_id": "0x" + "ee" * 32, "lot": "Y-1"}],
                "documents": [{"type": "invoice", "number": "INV-9", "hash": "0x" + "dd" * 32}],
                "audits": [
                    {
                        "issuer": "0x" + "ab" * 20,
                        "body": {"standard": "SMETA 4-pillar", "notice": "unannounced"},
                        "anchor": {"block_number": 12, "timestamp": 1_767_225_600},
                        "revoked_by": [],
                        "findings_by_status": {"open": 1, "closed": 2},
                        "open_findings": [
                            {
                                "id": "F-1",
                                "severity": "critical",
                                "status": "open",
                                "ilo_indicators": ["debt_bondage"],
                                "description": "fees",
                                "history": [
                                    {"status": "open", "state": "anchored",
                                     "anchor": {"block_number": 12}},
                                ],
                            },
                        ],
                    }
                ],
                "audits_not_listed": 2,
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
        "counts": {"pass": 5, "attention": 1, "fail": 1},
        "passed": {"signature": 2, "audit_valid": 1, "contract_code": 1},
        "anchors": [{"root": root, "tx_hash": "0x" + "ff" * 32, "block_number": 12, "entries": 5}],
        "entry_counts": {"audit": 4, "facility": 2},
        "entries": [
            {"entry_id": "0x03", "kind": "audit", "issuer": "0x" + "ab" * 20, "root": root},
            {"entry_id": "0x04", "kind": "facility", "issuer": "0x" + "ab" * 20, "root": None},
        ],
    }  # fmt: skip


def _text(html: str) -> str:
    """Roughly what a reader sees: inline tags dropped, others a space, entities decoded."""
    inline = re.sub(r"</?(span|strong|code|a)\b[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())


class _Graph(HTMLParser):
    """The provenance graph as a reader meets it: each box's visible lines and its tooltip."""

    def __init__(self) -> None:
        super().__init__()
        self.boxes: list[tuple[list[str], str]] = []
        self._in_graph = False
        self._element: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "svg" and ("aria-label", "provenance graph") in attrs:
            self._in_graph = True
        elif self._in_graph and tag == "g":
            self.boxes.append(([], ""))
        self._element = tag

    def handle_endtag(self, tag: str) -> None:
        self._in_graph = self._in_graph and tag != "svg"
        self._element = None

    def handle_data(self, data: str) -> None:
        if not (self._in_graph and self.boxes and data.strip()):
            return
        lines, tooltip = self.boxes[-1]
        if self._element == "text":
            lines.append(data.strip())
        elif self._element == "title":
            self.boxes[-1] = (lines, tooltip + data.strip())


def _graph_boxes(html: str) -> list[tuple[list[str], str]]:
    graph = _Graph()
    graph.feed(html)
    return graph.boxes


def test_report_is_self_contained_complete_and_escaped(tmp_path: Path) -> None:
    html = render_report(_report())
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "local development chain" in html
    for text in ("debt_bondage", "0x" + "dd" * 32, "0x" + "ff" * 32, "block 12, 2026-01-01"):
        assert text in html
    # Raw material first, one box per batch.
    assert [lines[0] for lines, _ in _graph_boxes(html)] == ["lot Y-1 (tier 3)", "lot L-1 (tier 1)"]
    path = write_report(_report(), tmp_path / "r.html")
    assert path.read_text(encoding="utf-8") == html


def test_verdict_first_in_words_then_reasons_worst_first() -> None:
    text = _text(render_report(_report()))
    assert f"Verdict: FAIL — forced-labour indicator open at {EVIL} when lot Y-1 was made" in text
    reasons = text.split("Reasons", 1)[1].split("checks passed", 1)[0]
    fail = reasons.index("fail No open forced-labour finding")
    attention = reasons.index("attention Evidence not withdrawn")
    passed = reasons.index("pass Recent independent audit")
    assert fail < attention < passed
    # Code names are not what a reader gets; counted passes read by what they counted.
    assert "forced_labour_findings" not in text and "not_revoked" not in text
    assert "pass Signed by the party it names (Batch and evidence): all 2 pieces" in text
    assert reasons.count("Signed by the party it names") == 1
    assert "pass Recent independent audit (Upstream facilities): all 1 facility" in text
    assert "code (Batch and evidence): passed" in text


def test_product_line_has_no_empty_sku_and_the_goods_list_is_named() -> None:
    text = _text(render_report(_report()))
    assert "Drill (Voltaris, GTIN 8951234000712); lot L-1" in text
    assert "SKU" not in text
    assert "Edition 2024 (as of September 5, 2024)" in text and "Coverage apparel only" in text


def test_revocation_reason_shown_and_anchors_folded_with_their_count() -> None:
    html = render_report(
        _report(), Annotations(withdrawn={REVOCATION: "auditor's licence suspended"})
    )
    text = _text(html)
    assert 'reason given: "auditor\'s licence suspended"' in text
    # Five entries under the root, one listed (it needs attention); one more not anchored.
    assert html.count("<details") == 2
    assert f"Root {'0x' + '12' * 32}: 5 entries, block 12, 1 listed" in text
    assert "Not anchored: 1 entry entry kind signed by 0x04 facility" in text


def test_accounts_show_the_organisation_with_the_address_beneath() -> None:
    auditor = "0x" + "ab" * 20
    unnamed = _text(render_report(_report()))
    assert f"Audit firm: unnamed account {auditor}" in unnamed
    named = _text(
        render_report(_report(), Annotations(names={auditor.upper(): Party(auditor, "SGS India")}))
    )
    assert f"Audit firm: SGS India {auditor}" in named and "unnamed account" not in named


def test_minimal_report_still_renders() -> None:
    html = render_report({"format": REPORT_FORMAT, "verdict": "PASS", "batch": {}, "checks": []})
    assert "Verdict: PASS" in html and "0 of 0 checks passed" in html
    assert "Nothing failed and nothing needs attention" in html


def test_a_report_of_another_format_is_refused_in_one_line() -> None:
    with pytest.raises(InputError, match=r"^report format: expected labourledger-report/3, got "
                       r"'labourledger-report/2'; verify the batch again"):  # fmt: skip
        render_report(_report() | {"format": "labourledger-report/2"})


def test_a_summarised_audit_shows_its_open_findings_and_counts_the_rest() -> None:
    text = _text(render_report(_report()))
    assert "Findings by status: open 1, closed 2; only the open findings the policy weighs" in text
    assert "F-1 critical debt_bondage fees open" in text
    assert "2 more audits of this facility ended outside the window the verdict weighs" in text
    assert "6 of 7 checks passed" not in text and "5 of 7 checks passed" in text


def test_long_facility_names_are_cut_in_the_graph_but_whole_in_its_tooltip() -> None:
    report = _report()
    name = "Southern Integrated Ginning and Spinning Cooperative"
    report["graph"]["nodes"][1] |= {"facility_name": name}
    html = render_report(report)
    [(lines, tooltip)] = [box for box in _graph_boxes(html) if box[0][0].startswith("lot Y-1")]
    assert tooltip == name
    [shown] = [line for line in lines if line.endswith("\u2026")]
    assert name.startswith(shown[:-1]) and len(shown) < len(name) and name not in lines
    assert "Nothing failed" not in html


def test_development_chains_and_check_titles() -> None:
    assert is_development_chain({"label": "http://127.0.0.1:8545", "chain_id": 5})
    assert is_development_chain({"label": "https://rpc.example", "chain_id": 31337})
    assert not is_development_chain({"label": "https://rpc.example", "chain_id": 137})
    assert batch_view(_report()).chain.development
    assert check_title("issuer_operates_facility").startswith("Declaration signed by")
    assert check_title("grievances_open") == "Grievances open"
