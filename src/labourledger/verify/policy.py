"""The labour provenance policy: per facility at the production date, and for the trace.

Each check is a small named object returning a CheckResult with a reason a
person can act on. The policy itself is validated: an empty or nonsensical
policy is refused, so verification cannot pass by configuring nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger.errors import InputError
from labourledger.kinds import SEVERITIES, checksum_address
from labourledger.verify.goods import GoodsList, load_goods_list
from labourledger.verify.results import CheckResult, Outcome
from labourledger.vocabulary import OPEN_FINDING_STATUSES, FindingStatus, MissingAudit, Notice

if TYPE_CHECKING:
    from labourledger.audits import AttestationView, AuditView, FindingStep, FindingView
    from labourledger.workspace import PolicyConfig

__all__ = [
    "AttestationsInForce",
    "FacilityEvidence",
    "HighRiskNotice",
    "NoForcedLabourFindings",
    "Policy",
    "RecentAudit",
    "TraceComplete",
    "audit_status_on",
    "finding_on",
    "production_dates",
]

NOTICES: tuple[str, ...] = tuple(Notice)
MISSING_AUDIT: tuple[str, ...] = tuple(MissingAudit)


@dataclass(frozen=True)
class Policy:
    """What a batch must show to PASS; from the workspace config, overridable per run."""

    audit_validity_months: int = 24
    fail_severities: tuple[str, ...] = ("zero_tolerance", "critical")
    attention_severities: tuple[str, ...] = ("major",)
    high_risk_notice: tuple[str, ...] = ("unannounced", "semi_announced")
    required_tier: int = 4
    missing_audit: str = "attention"
    #: Audits ending this many months after a production date are evidence about it too.
    look_ahead_months: int = 6
    #: A goods list file in the shipped snapshot's format; empty for the shipped one.
    goods_list: str = ""
    #: Admins whose accreditations count (`verify.trust`); empty: any, named in the report.
    trusted_admins: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, config: PolicyConfig, root: Path, **overrides: Any) -> Policy:
        """The policy a workspace's config sets (a relative goods list is relative to `root`,
        the workspace), with any non-None `overrides` (flags of one run)."""
        values: dict[str, Any] = {}
        for name in (f.name for f in fields(cls)):
            value = getattr(config, name)
            values[name] = tuple(value) if isinstance(value, list) else value
        if config.goods_list:
            values["goods_list"] = str(root / config.goods_list)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self) -> None:
        # Kept as parsed: one written without 0x, or with spaces, must still match its admin.
        admins = tuple(checksum_address(a, "policy trusted_admins") for a in self.trusted_admins)
        object.__setattr__(self, "trusted_admins", admins)
        for name in ("audit_validity_months", "look_ahead_months", "required_tier"):
            value = getattr(self, name)
            if type(value) is not int:  # config.toml can hold any type; True is an int too
                raise InputError(f"policy {name}: expected a whole number, got {value!r}")
        # Bounded so the window's start stays a real date (and a plausible one).
        if not 1 <= self.audit_validity_months <= 120:
            raise InputError("policy audit_validity_months: must be 1 to 120")
        if not 0 <= self.look_ahead_months <= 24:
            raise InputError("policy look_ahead_months: must be 0 to 24")
        if not self.fail_severities:
            raise InputError("policy fail_severities: an empty list would let any finding pass")
        for name in ("fail_severities", "attention_severities"):
            unknown = set(getattr(self, name)) - set(SEVERITIES)
            if unknown:
                raise InputError(f"policy {name}: unknown severities {sorted(unknown)}")
        if set(self.fail_severities) & set(self.attention_severities):
            raise InputError("policy: a severity cannot both fail and need attention")
        self._worse_counts_as_much()
        if not self.high_risk_notice or set(self.high_risk_notice) - set(NOTICES):
            raise InputError(f"policy high_risk_notice: choose from {', '.join(NOTICES)}")
        if not 1 <= self.required_tier <= 4:
            raise InputError("policy required_tier: must be 1 to 4")
        if self.missing_audit not in MISSING_AUDIT:
            raise InputError(f"policy missing_audit: choose from {', '.join(MISSING_AUDIT)}")
        self.goods()  # a bad list is refused before any verdict depends on it

    def _worse_counts_as_much(self) -> None:
        """Refuse a policy under which a finding would count for less than a milder one (say
        `--fail-severity minor` alone, which would let a critical finding pass)."""
        weight = {s: 2 for s in self.fail_severities} | {s: 1 for s in self.attention_severities}
        for name, level in (("fail_severities", 2), ("attention_severities", 1)):
            for severity in getattr(self, name):
                worse = SEVERITIES[: SEVERITIES.index(severity)]  # worst first
                lighter = [w for w in worse if weight.get(w, 0) < level]
                if lighter:
                    raise InputError(
                        f"policy {name}: {severity} findings count but worse ones "
                        f"({', '.join(lighter)}) would count for less; list those too"
                    )

    def goods(self) -> GoodsList:
        """The DOL goods list this policy applies."""
        return load_goods_list(self.goods_list or None)

    def weighs(self, finding: FindingView) -> bool:
        """Whether a finding bears on verdicts under this policy, so a report shows it in
        full: it names an ILO forced labour indicator, or its severity fails or needs
        attention."""
        return bool(finding.ilo_indicators) or finding.severity in (
            *self.fail_severities,
            *self.attention_severities,
        )


@dataclass(frozen=True)
class FacilityEvidence:
    """What the mirror holds about one facility, counted evidence only (anchored, not revoked)."""

    facility_id: str
    name: str
    country: str
    tier: int | None
    audits: list[AuditView]
    attestations: list[AttestationView]
    texts: list[str] = field(default_factory=list)


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, 28))


def production_dates(nodes: Sequence[Mapping[str, Any]], made: dt.date) -> dict[str, dt.date]:
    """The day each facility of a trace is judged at: when its nearest batch was made (the
    batch's own date where the trace reaches it through a transformation), else `made`."""
    dates: dict[str, dt.date] = {}
    for node in sorted(nodes, key=lambda n: n["depth"]):
        produced = node.get("produced_at")
        day = dt.date.fromisoformat(produced) if produced else made
        dates.setdefault(node.get("facility") or node["id"], day)
    return dates


def _result(check: str, outcome: Outcome, reason: str, facility: FacilityEvidence) -> CheckResult:
    return CheckResult(check, outcome, reason, facility=facility.facility_id)


def _effective(step: FindingStep) -> dt.date | None:
    """When a finding update took effect: verified and anchored, whichever came later,
    so neither a back-dated verification nor an early anchor can clean earlier goods.
    None while it does not count (pending, revoked, failed a check)."""
    anchor = step.anchor
    if step.state != "anchored" or anchor is None or anchor.timestamp is None:
        return None
    anchored_on = dt.datetime.fromtimestamp(anchor.timestamp, dt.UTC).date()
    return max(anchored_on, step.verified_on) if step.verified_on else anchored_on


@dataclass(frozen=True)
class FindingOnDate:
    """A finding as it stood on one day, and when (if ever) it was closed later."""

    status: FindingStatus
    closed_on: dt.date | None

    @property
    def open(self) -> bool:
        """Whether the finding was open (or in progress, or disputed) that day."""
        return self.status in OPEN_FINDING_STATUSES


def finding_on(audit: AuditView, finding: FindingView, day: dt.date) -> FindingOnDate:
    """A finding's status on `day`. An audit ending after `day` is evidence about it, so its
    findings stood then; otherwise the audit's status holds until an update took effect."""
    history = finding.history
    status = history[0].status
    if day < audit.body.end_date:
        status = FindingStatus.OPEN
    closed_on = None
    for step in history[1:]:
        effective = _effective(step)
        if effective is None:
            continue
        if effective <= day:
            status = step.status
        elif closed_on is None and step.status not in OPEN_FINDING_STATUSES:
            closed_on = effective
    return FindingOnDate(status, closed_on)


@dataclass(frozen=True)
class RecentAudit:
    """An anchored audit of the facility ended within the validity window before production,
    or within the look-ahead after it; without one the facility needs attention (or fails,
    if the policy says so)."""

    policy: Policy
    produced_on: dt.date
    name: str = "audit_valid"

    def covering(self, facility: FacilityEvidence) -> list[AuditView]:
        """The audits that are evidence about this production date."""
        return covering(facility.audits, self.produced_on, self.policy)

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        audits = self.covering(facility)
        if not audits:
            return _result(
                self.name,
                Outcome(self.policy.missing_audit),
                f"{facility.name}: no anchored audit ended in the "
                f"{self.policy.audit_validity_months} months before {self.produced_on} "
                f"(made) or the {self.policy.look_ahead_months} months after",
                facility,
            )
        latest = max(audits, key=lambda a: a.body.end_date).body
        after = (
            " (after production, within the look-ahead)"
            if latest.end_date > self.produced_on
            else ""
        )
        return _result(
            self.name,
            Outcome.PASS,
            f"{facility.name}: {latest.standard} audit ({latest.notice}) "
            f"ended {latest.end_date}{after}; made {self.produced_on}",
            facility,
        )


def covering(audits: Sequence[AuditView], produced_on: dt.date, policy: Policy) -> list[AuditView]:
    """The audits ended in the validity window before `produced_on` or the look-ahead after."""
    if not audits:  # many facilities of a trace: the window's dates cost more than the rest
        return []
    start = _months_before(produced_on, policy.audit_validity_months)
    end = _months_before(produced_on, -policy.look_ahead_months)
    return [a for a in audits if start <= a.body.end_date <= end]


def _indicator_line(finding: FindingView, day: dt.date, then: FindingOnDate) -> str:
    indicators = ", ".join(i.replace("_", " ") for i in finding.ilo_indicators)
    later = f"closed {then.closed_on}" if then.closed_on else f"still {finding.status}"
    return (
        f"made {day} while {finding.id} ({indicators}; {finding.severity}) was "
        f"{then.status.replace('_', ' ')}: {finding.description}; {later}"
    )


def open_indicators(
    audits: Sequence[AuditView], day: dt.date, policy: Policy
) -> list[tuple[Outcome, str]]:
    """Each finding with an ILO indicator at a severity that counts, open on `day`, with
    the outcome it gives and a line saying which date was judged; once, though several
    audits covering `day` found it again."""
    found: dict[tuple[Outcome, str], None] = {}
    for audit in covering(audits, day, policy):
        for f in audit.findings:
            if not f.ilo_indicators:
                continue
            if f.severity in policy.fail_severities:
                outcome = Outcome.FAIL
            elif f.severity in policy.attention_severities:
                outcome = Outcome.ATTENTION
            else:
                continue
            then = finding_on(audit, f, day)
            if then.open:
                found[outcome, _indicator_line(f, day, then)] = None
    return list(found)


def audit_status_on(audits: Sequence[AuditView], day: dt.date, policy: Policy) -> str:
    """One line for `trace`: the audits that are evidence about `day`, and what was open
    then, judged as `verify` judges it."""
    # verify counts only anchored, unrevoked audits; trace names the others without judging.
    counted = [a for a in audits if a.anchor is not None and not a.revoked_by]
    relevant = covering(counted, day, policy)
    uncounted = len(covering(audits, day, policy)) - len(relevant)
    aside = f"; {uncounted} more not counted (not anchored yet, or revoked)" if uncounted else ""
    if not relevant:
        return f"no anchored audit covering {day} (made){aside}"
    latest = max(relevant, key=lambda a: a.body.end_date).body
    found = open_indicators(counted, day, policy)
    state = "; ".join(line for _, line in found) if found else f"no open indicator on {day}"
    return f"{latest.standard} ({latest.notice}) ended {latest.end_date}; {state}{aside}"


@dataclass(frozen=True)
class NoForcedLabourFindings:
    """No finding with an ILO forced labour indicator was open at a failing severity on the
    production date; a closure that took effect later does not clean goods made before it."""

    policy: Policy
    audits: RecentAudit
    name: str = "forced_labour_findings"

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        found = open_indicators(facility.audits, self.audits.produced_on, self.policy)
        if not found:
            assessed = bool(self.audits.covering(facility))
            return _result(
                self.name,
                Outcome.PASS if assessed else Outcome(self.policy.missing_audit),
                f"{facility.name}: no forced labour finding at a severity that counts was open "
                f"on {self.audits.produced_on} (made)"
                + ("" if assessed else "; no audit covers it, so nothing was assessed"),
                facility,
            )
        worst_outcome = max((o for o, _ in found), key=lambda o: o.rank)
        return _result(
            self.name,
            worst_outcome,
            f"{facility.name}: " + "; ".join(line for _, line in found),
            facility,
        )


@dataclass(frozen=True)
class AttestationsInForce:
    """At least one anchored, unrevoked attestation was valid on the production date."""

    produced_on: dt.date
    name: str = "attestations_in_force"

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        day = self.produced_on
        valid = [a.claim for a in facility.attestations if a.valid_from <= day <= a.valid_until]
        if valid:
            return _result(
                self.name, Outcome.PASS, f"{facility.name}: in force: {', '.join(valid)}", facility
            )
        return _result(
            self.name,
            Outcome.ATTENTION,
            f"{facility.name}: no supplier declaration or certificate in force on {day}",
            facility,
        )


@dataclass(frozen=True)
class HighRiskNotice:
    """Goods and countries on the DOL forced labour list need an unannounced or
    semi-announced audit."""

    policy: Policy
    audits: RecentAudit
    goods: GoodsList
    name: str = "high_risk_notice"

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        flagged = self.goods.forced_labour_goods(facility.country, facility.texts)
        if not flagged and not self.goods.assesses(facility.texts):
            return _result(
                "goods_list",
                Outcome.ATTENTION,
                f"{facility.name}: not assessed: the list covers {self.goods.coverage} "
                f"({self.goods.edition}), not what this facility makes",
                facility,
            )
        if not flagged:
            return _result(
                self.name,
                Outcome.PASS,
                f"{facility.name}: not on the DOL forced labour list ({self.goods.label})",
                facility,
            )
        notices = {a.body.notice for a in self.audits.covering(facility)}
        listed = f"{', '.join(flagged)} from {facility.country} is on the DOL forced labour list"
        if notices & set(self.policy.high_risk_notice):
            return _result(
                self.name,
                Outcome.PASS,
                f"{facility.name}: {listed}; audited {' / '.join(sorted(notices))}",
                facility,
            )
        return _result(
            self.name,
            Outcome.FAIL,
            f"{facility.name}: {listed} ({self.goods.label}); it needs an "
            f"{' or '.join(self.policy.high_risk_notice)} audit",
            facility,
        )


@dataclass(frozen=True)
class TraceComplete:
    """The trace reaches the required tier, without gaps or cycles."""

    policy: Policy
    name: str = "trace_complete"

    def __call__(self, trace: Mapping[str, Any]) -> list[CheckResult]:
        results = [
            CheckResult(self.name, Outcome.FAIL, p["reason"], facility=None)
            for p in trace["problems"]
        ]
        deepest = max((n.get("tier") or 0 for n in trace["nodes"]), default=0)
        if deepest < self.policy.required_tier:
            results.append(
                CheckResult(
                    self.name,
                    Outcome.FAIL,
                    f"the trace reaches tier {deepest}, the policy requires tier "
                    f"{self.policy.required_tier}",
                )
            )
        if not results:
            results.append(
                CheckResult(
                    self.name,
                    Outcome.PASS,
                    f"traced to tier {deepest} through {len(trace['nodes'])} nodes",
                )
            )
        return results
