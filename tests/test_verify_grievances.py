"""The worker grievance check (issue 13): what a grievance means for goods made on a date."""

from __future__ import annotations

import datetime as dt

import pytest

from labourledger.grievances import GrievanceView, StatusChange
from labourledger.verify.grievances import WorkerGrievances, judge
from labourledger.verify.results import Outcome

FACILITY = "0x" + "11" * 32


def _grievance(
    *steps: tuple[str, str] | tuple[str, str, str],
    received: str = "2026-10",
    categories: tuple[str, ...] = ("withholding_of_wages",),
    severity: str = "major",
    n: int = 1,
) -> GrievanceView:
    """A counted grievance; each step is (status, month[, state]) of an update."""
    first = StatusChange("acknowledged", received, "grievance", f"0x{n:064x}", "0xC", "anchored", 5)
    history = [first]
    for i, step in enumerate(steps):
        status, month, *state = step
        history.append(
            StatusChange(
                status,
                month,
                "grievance_update",
                f"0x{i:064x}",
                "0xC",
                state[0] if state else "anchored",
                6 + i,
            )
        )
    anchored = [h.status for h in history if h.state == "anchored"]
    return GrievanceView(
        entry_id=first.entry_id, issuer="0xC", facility=FACILITY, received_month=received,
        channel="hotline", categories=categories, severity=severity, workers="2-5",
        state="anchored", block_number=5, revoked_by=(), status=anchored[-1],
        history=tuple(history),
    )  # fmt: skip


def _weight(g: GrievanceView, day: str) -> str:
    return judge(g, dt.date.fromisoformat(day)).weight


def test_a_substantiated_grievance_is_present_from_its_month_until_remediated() -> None:
    g = _grievance(("substantiated", "2026-12"), ("remediated", "2027-02"))
    assert _weight(g, "2026-09-30") == "none"  # goods made before it was received
    # Substantiation confirms what was reported, so it reaches back to the received month.
    assert _weight(g, "2026-10-01") == "present"
    assert _weight(g, "2027-01-31") == "present"
    assert _weight(g, "2027-02-15") == "present"  # made in the month of the remediation
    assert _weight(g, "2027-03-01") == "none"


def test_pending_or_revoked_steps_change_nothing() -> None:
    pending = _grievance(("substantiated", "2026-11"), ("remediated", "2026-12", "pending"))
    assert _weight(pending, "2027-06-01") == "present"
    revoked = _grievance(("substantiated", "2026-11", "revoked"))
    assert _weight(revoked, "2026-10-20") == "unresolved"


def test_a_remediation_counts_from_its_anchor_month_not_a_back_dated_month() -> None:
    g = _grievance(("substantiated", "2026-11"), ("remediated", "2026-11"))
    back_dated = g.history[-1].__class__(**{**vars(g.history[-1]), "anchored_month": "2027-03"})
    g = GrievanceView(**{**vars(g), "history": (*g.history[:-1], back_dated)})
    assert _weight(g, "2027-01-10") == "present"
    assert _weight(g, "2027-04-10") == "none"


@pytest.mark.parametrize(
    ("steps", "weight"),
    [
        ((), "unresolved"),
        ((("under_investigation", "2026-11"),), "unresolved"),
        ((("unsubstantiated", "2026-11"),), "none"),
        ((("withdrawn", "2026-11"),), "none"),
        # A withdrawal does not undo a substantiation; a later finding of no substance does.
        ((("substantiated", "2026-11"), ("withdrawn", "2026-12")), "present"),
        ((("substantiated", "2026-11"), ("unsubstantiated", "2026-12")), "none"),
    ],
)
def test_statuses(steps: tuple[tuple[str, str], ...], weight: str) -> None:
    assert _weight(_grievance(*steps), "2026-10-20") == weight


def test_only_ilo_indicators_weigh() -> None:
    g = _grievance(("substantiated", "2026-11"), categories=("wages", "harassment"))
    assert _weight(g, "2026-10-20") == "none"


def _check(*grievances: GrievanceView, day: str = "2026-11-15") -> tuple[Outcome, str]:
    check = WorkerGrievances(("zero_tolerance", "critical"), ("major",), dt.date.fromisoformat(day))
    result = check(FACILITY, "Saigon Knit Fabrics", grievances)
    assert result.facility == FACILITY and result.check == "worker_grievances"
    return result.outcome, result.reason


def test_outcomes_and_reasons() -> None:
    assert _check()[0] is Outcome.PASS
    major = _grievance(("substantiated", "2026-11"))
    outcome, reason = _check(major)
    assert outcome is Outcome.ATTENTION
    assert reason == (
        "Saigon Knit Fabrics: substantiated major worker grievance (withholding_of_wages), "
        "received 2026-10, not remediated before 2026-11-15"
    )
    critical = _grievance(("substantiated", "2027-01"), severity="critical", n=2)
    assert _check(major, critical)[0] is Outcome.FAIL
    minor = _grievance(("substantiated", "2026-11"), severity="minor", n=3)
    assert _check(minor)[0] is Outcome.PASS
    open_ones = [_grievance(received=m, n=10 + i) for i, m in enumerate(("2026-11", "2026-09"))]
    outcome, reason = _check(*open_ones, _grievance(received="2026-10", n=20))
    assert outcome is Outcome.ATTENTION
    assert reason.endswith("3 unresolved worker grievances, received 2026-09 to 2026-11")
    assert _check(open_ones[1])[1].endswith("1 unresolved worker grievance, received in 2026-09")
