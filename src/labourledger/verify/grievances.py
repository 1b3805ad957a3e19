"""Worker grievances in the labour provenance policy (issue 13), per facility at the
production date.

Only grievances with an ILO forced labour indicator weigh on the verdict, and
only as judged with everything known now: a grievance substantiated (even
after the production date: substantiation confirms what was reported) counts
as present from its received month until an anchored `remediated` update; one
still acknowledged or under investigation needs attention; one found
unsubstantiated, or withdrawn without ever being substantiated, weighs nothing.
A withdrawal does not undo a substantiation: withdrawals are what pressure on
workers produces.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from labourledger.authority import may_update_grievance
from labourledger.envelope import SignedEntry, to_hex
from labourledger.grievances import UNRESOLVED, GrievanceView, current_status
from labourledger.kinds import ILO_INDICATORS
from labourledger.verify.results import CheckResult, Outcome

__all__ = [
    "GrievanceJudgement",
    "UpdatedByChannelOrAuditor",
    "WorkerGrievances",
    "counted_grievances",
    "judge",
]

_ILO = frozenset(ILO_INDICATORS)


@dataclass(frozen=True)
class GrievanceJudgement:
    """What one grievance means for goods made in one month."""

    grievance: GrievanceView
    #: present (substantiated, not remediated before that month), unresolved, or none.
    weight: str


@dataclass(frozen=True)
class UpdatedByChannelOrAuditor:
    """A grievance update counts only from the channel that recorded the grievance, or
    from an AUDITOR at the block of the anchor including the update."""

    channel: str
    block: int | None
    held: Callable[[str, str, int], bool]
    name: str = "issuer_role"

    def __call__(self, entry: SignedEntry) -> CheckResult:
        """Judge one grievance_update entry."""
        block = self.block
        ok = block is not None and may_update_grievance(
            entry.issuer, self.channel, lambda: self.held("AUDITOR", entry.issuer, block)
        )
        reason = (
            f"update by the channel that recorded the grievance, or an AUDITOR at block {block}"
            if ok
            else f"update by {entry.issuer}, neither the channel that recorded the grievance "
            f"({self.channel}) nor an AUDITOR at block {block}: not counted"
        )
        outcome = Outcome.PASS if ok else Outcome.FAIL
        return CheckResult(self.name, outcome, reason, entry_id=to_hex(entry.entry_id))


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def counted_grievances(
    views: Sequence[GrievanceView],
    trusted: Callable[[str], bool],
    anchored_at: Mapping[str, int],
) -> list[GrievanceView]:
    """The grievances that count, as verification checked them: anchored and `trusted`
    (every check passed, not revoked), each step dated by its anchor's block time from
    the chain (`anchored_at`, Unix seconds by entry id) and a step that is not trusted
    marked `not counted`, so it changes nothing."""
    kept = []
    for view in views:
        if view.entry_id not in anchored_at or not trusted(view.entry_id):
            continue
        steps = tuple(
            replace(step, anchored_month=_month_of(anchored_at[step.entry_id]))
            if step.entry_id in anchored_at and trusted(step.entry_id)
            else replace(step, state="not counted")
            for step in view.history
        )
        kept.append(replace(view, history=steps, status=current_status(steps)))
    return kept


def _month_of(seconds: int) -> str:
    moment = time.gmtime(seconds)
    return f"{moment.tm_year:04d}-{moment.tm_mon:02d}"


def judge(grievance: GrievanceView, produced_on: dt.date) -> GrievanceJudgement:
    """How a counted grievance weighs on goods made on `produced_on`. Only its anchored
    steps count; a remediation counts from its effective month, and goods made in that
    month are still treated as made before it (fail closed)."""
    month = _month(produced_on)
    steps = [h for h in grievance.history[1:] if h.state == "anchored"]
    current = current_status(grievance.history)
    substantiated = any(h.status in ("substantiated", "remediated") for h in steps)
    if (
        grievance.received_month > month
        or not _ILO.intersection(grievance.categories)
        or current == "unsubstantiated"
    ):
        return GrievanceJudgement(grievance, "none")
    if substantiated:
        remedied = [h.effective_month for h in steps if h.status == "remediated"]
        present = not remedied or min(remedied) >= month
        return GrievanceJudgement(grievance, "present" if present else "none")
    return GrievanceJudgement(grievance, "unresolved" if current in UNRESOLVED else "none")


@dataclass(frozen=True)
class WorkerGrievances:
    """No substantiated grievance with an ILO indicator present at the production date at
    a failing severity (FAIL) or one needing attention (ATTENTION), and none unresolved
    (ATTENTION)."""

    fail_severities: tuple[str, ...]
    attention_severities: tuple[str, ...]
    produced_on: dt.date
    name: str = "worker_grievances"

    def __call__(
        self, facility_id: str, facility_name: str, grievances: Sequence[GrievanceView]
    ) -> CheckResult:
        """Judge the counted grievances (anchored, not revoked, checked) of one facility."""
        judged = [judge(g, self.produced_on) for g in grievances]
        worst, reasons = Outcome.PASS, []
        for j in judged:
            g = j.grievance
            if j.weight != "present":
                continue
            if g.severity in self.fail_severities:
                outcome = Outcome.FAIL
            elif g.severity in self.attention_severities:
                outcome = Outcome.ATTENTION
            else:
                continue
            worst = max(worst, outcome, key=lambda o: o.rank)
            indicators = ", ".join(c for c in g.categories if c in _ILO)
            reasons.append(
                f"substantiated {g.severity} worker grievance ({indicators}), received "
                f"{g.received_month}, not remediated before {self.produced_on}"
            )
        unresolved = sorted(j.grievance.received_month for j in judged if j.weight == "unresolved")
        if unresolved:
            worst = max(worst, Outcome.ATTENTION, key=lambda o: o.rank)
            span = (
                f"in {unresolved[0]}"
                if unresolved[0] == unresolved[-1]
                else f"{unresolved[0]} to {unresolved[-1]}"
            )
            plural = "grievance" if len(unresolved) == 1 else "grievances"
            reasons.append(f"{len(unresolved)} unresolved worker {plural}, received {span}")
        if not reasons:
            reason = (
                f"{facility_name}: no substantiated or unresolved worker grievance with a "
                f"forced labour indicator at {self.produced_on}"
            )
        else:
            reason = f"{facility_name}: " + "; ".join(reasons)
        return CheckResult(self.name, worst, reason, facility=facility_id)
