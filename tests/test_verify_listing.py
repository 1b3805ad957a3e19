"""Issue 16: a default report lists what a reader must see and counts the rest; with
`--all-checks` it lists everything, and the verdict and counts are the same either way.

On the demo, the spinning mill gets four more audits: one ended years before its yarn was
spun, one in the window with a minor finding and a major forced-labour one, one revoked
and one never anchored (both from years before)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from html import unescape
from typing import Any

import jsonschema
import pytest
from clihelp import FAST_ENV, PASSPHRASE
from eth_account import Account

from labourledger.demo import run_demo
from labourledger.ledger import Ledger
from labourledger.report import render_report
from labourledger.schemas import published

pytestmark = pytest.mark.integration

TODAY = dt.datetime.now(dt.UTC).date()


def _audit(facility: str, ended: dt.date, *findings: dict[str, Any]) -> dict[str, Any]:
    return {"facility": facility, "standard": "SMETA 4-pillar", "audit_type": "periodic",
            "notice": "unannounced", "start_date": (ended - dt.timedelta(days=2)).isoformat(),
            "end_date": ended.isoformat(), "workers_interviewed": 20,
            "result": "conditional" if findings else "pass",
            "findings": list(findings)}  # fmt: skip


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The default and the `--all-checks` report, and the ids of the audits added."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in FAST_ENV.items():
            mp.setenv(name, value)
        demo = run_demo(tmp_path_factory.mktemp("listing") / "demo", admin_passphrase=PASSPHRASE)
        ledger = Ledger.open(demo.workspace)
        admin = ledger.workspace.keys.unlock("admin", PASSPHRASE)
        auditor = Account.create()
        ledger.chain.fund(auditor.address, 10**18)
        ledger.grant_role(admin, "AUDITOR", auditor.address)
        mill = next(s for s in demo.after["stages"] if s["tier"] == 3)["facility"]["facility_id"]
        years_ago = TODAY.replace(year=TODAY.year - 5)

        def signed(body: dict[str, Any]) -> str:
            return "0x" + ledger.record("audit", body, auditor).entry_id.hex()

        minor = {"id": "F-1", "ilo_indicators": [], "severity": "minor",
                 "description": "First-aid kit incomplete"}  # fmt: skip
        major = {"id": "F-2", "ilo_indicators": ["excessive_overtime"], "severity": "major",
                 "description": "Overtime above 60 hours a week"}  # fmt: skip
        ids = {
            "old": signed(_audit(mill, years_ago, minor)),
            "weighed": signed(_audit(mill, TODAY - dt.timedelta(days=10), minor, major)),
            "revoked": signed(_audit(mill, years_ago)),
        }
        ledger.anchor(admin)
        ledger.record("revocation", {"target": ids["revoked"], "reason": "wrong facility"}, admin)
        ledger.anchor(admin)
        ids["pending"] = signed(_audit(mill, years_ago))
        yield {
            "ids": ids,
            "mill": mill,
            "default": ledger.verify(demo.batch),
            "full": ledger.verify(demo.batch, all_checks=True),
        }


def _mill(report: dict[str, Any], mill: str) -> dict[str, Any]:
    return next(s for s in report["stages"] if s["facility"]["facility_id"] == mill)


def test_a_stage_lists_the_audits_the_verdict_weighs_or_does_not_count(
    reports: dict[str, Any],
) -> None:
    ids, mill = reports["ids"], reports["mill"]
    stage = _mill(reports["default"], mill)
    states = {a["entry_id"]: a["state"] for a in stage["audits"]}
    # The demo's own audit, the one in the window, and the two that do not count.
    assert ids["old"] not in states and stage["audits_not_listed"] == 1
    assert {ids["weighed"], ids["revoked"], ids["pending"]} <= set(states) and len(states) == 4
    assert (states[ids["revoked"]], states[ids["pending"]]) == ("revoked", "pending")
    full = _mill(reports["full"], mill)
    assert {a["entry_id"] for a in full["audits"]} == {*states, ids["old"]}
    assert full["audits_not_listed"] == 0


def test_a_listed_audit_shows_in_full_only_the_open_findings_the_policy_weighs(
    reports: dict[str, Any],
) -> None:
    ids, mill = reports["ids"], reports["mill"]
    [summary] = [
        a for a in _mill(reports["default"], mill)["audits"] if a["entry_id"] == ids["weighed"]
    ]
    # The minor finding without an indicator is only counted; the major one is in full.
    assert summary["findings_by_status"] == {"open": 2}
    [shown] = summary["open_findings"]
    assert (shown["id"], shown["severity"], shown["history"][0]["by"]) == ("F-2", "major", "audit")
    assert "facility" not in summary["body"] and summary["body"]["end_date"]
    [full] = [a for a in _mill(reports["full"], mill)["audits"] if a["entry_id"] == ids["weighed"]]
    assert [f["id"] for f in full["findings"]] == ["F-1", "F-2"]


def test_passes_are_counted_by_default_and_listed_with_all_checks(
    reports: dict[str, Any],
) -> None:
    default, full = reports["default"], reports["full"]
    assert not [c for c in default["checks"] if c["outcome"] == "pass"]
    listed = Counter(c["check"] for c in full["checks"] if c["outcome"] == "pass")
    assert listed == Counter(default["passed"]) and full["passed"] == {}
    # Facility passes too: one per facility that passed.
    assert default["passed"]["attestations_in_force"] == len(default["stages"]) == 4
    assert {c["facility"] for c in full["checks"] if c["check"] == "attestations_in_force"} == {
        s["facility"]["facility_id"] for s in full["stages"]
    }
    # Not passes: the same, in full, either way.
    assert [c for c in full["checks"] if c["outcome"] != "pass"] == default["checks"]


def test_the_verdict_and_counts_do_not_depend_on_what_is_listed(
    reports: dict[str, Any],
) -> None:
    default, full = reports["default"], reports["full"]
    assert default["verdict"] == full["verdict"] == "FAIL"  # the pending audit
    assert default["counts"] == full["counts"]
    assert default["entry_counts"] == full["entry_counts"]
    assert [s["outcome"] for s in default["stages"]] == [s["outcome"] for s in full["stages"]]
    schema = jsonschema.Draft202012Validator(published("verify-report"))
    for report in (default, full):
        assert [e.message for e in schema.iter_errors(report)] == []


def test_the_html_report_shows_each_stage_and_the_counted_passes(
    reports: dict[str, Any],
) -> None:
    default = reports["default"]
    inline = re.sub(r"</?(span|strong|code)\b[^>]*>", "", render_report(default))
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", inline)).split())
    for stage in default["stages"]:
        name, country = stage["facility"]["name"], stage["facility"]["country"]
        assert f"Tier {stage['tier']}: {name} ({country}) {stage['outcome']}" in text
    assert "pass Recent independent audit (Upstream facilities): all 4 facilities" in text
    assert "1 more audit of this facility ended outside the window the verdict weighs" in text
