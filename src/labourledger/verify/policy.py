"""The labour provenance policy: per facility at the production date, and for the trace.

Each check is a small named object returning a CheckResult with a reason a
person can act on. The policy itself is validated: an empty or nonsensical
policy is refused, so verification cannot pass by configuring nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labourledger.errors import InputError
from labourledger.kinds import SEVERITIES
from labourledger.verify.goods import GoodsList, load_goods_list
from labourledger.verify.results import CheckResult, Outcome

__all__ = [
    "AttestationsInForce",
    "FacilityEvidence",
    "HighRiskNotice",
    "NoForcedLabourFindings",
    "Policy",
    "RecentAudit",
    "TraceComplete",
]

NOTICES = ("announced", "semi_announced", "unannounced")
MISSING_AUDIT = ("attention", "fail")
OPEN_STATUSES = ("open", "progress_made", "disputed")


@dataclass(frozen=True)
class Policy:
    """What a batch must show to PASS; from the workspace config, overridable per run."""

    audit_validity_months: int = 24
    fail_severities: tuple[str, ...] = ("zero_tolerance", "critical")
    attention_severities: tuple[str, ...] = ("major",)
    high_risk_notice: tuple[str, ...] = ("unannounced", "semi_announced")
    required_tier: int = 4
    missing_audit: str = "attention"
    #: A goods list file in the shipped snapshot's format; empty for the shipped one.
    goods_list: str = ""

    def __post_init__(self) -> None:
        if self.audit_validity_months < 1:
            raise InputError("policy audit_validity_months: must be 1 or more")
        if not self.fail_severities:
            raise InputError("policy fail_severities: an empty list would let any finding pass")
        for name in ("fail_severities", "attention_severities"):
            unknown = set(getattr(self, name)) - set(SEVERITIES)
            if unknown:
                raise InputError(f"policy {name}: unknown severities {sorted(unknown)}")
        if set(self.fail_severities) & set(self.attention_severities):
            raise InputError("policy: a severity cannot both fail and need attention")
        if not self.high_risk_notice or set(self.high_risk_notice) - set(NOTICES):
            raise InputError(f"policy high_risk_notice: choose from {', '.join(NOTICES)}")
        if not 1 <= self.required_tier <= 4:
            raise InputError("policy required_tier: must be 1 to 4")
        if self.missing_audit not in MISSING_AUDIT:
            raise InputError(f"policy missing_audit: choose from {', '.join(MISSING_AUDIT)}")
        self.goods()  # a bad list is refused before any verdict depends on it

    def goods(self) -> GoodsList:
        """The DOL goods list this policy applies."""
        return load_goods_list(self.goods_list or None)


@dataclass(frozen=True)
class FacilityEvidence:
    """What the mirror holds about one facility, counted evidence only (anchored, not revoked)."""

    facility_id: str
    name: str
    country: str
    tier: int | None
    audits: list[Mapping[str, Any]]
    attestations: list[Mapping[str, Any]]
    texts: list[str] = field(default_factory=list)


def _months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, 28))


def _result(check: str, outcome: Outcome, reason: str, facility: FacilityEvidence) -> CheckResult:
    return CheckResult(check, outcome, reason, facility=facility.facility_id)


@dataclass(frozen=True)
class RecentAudit:
    """An anchored audit of the facility ended within the validity window before production;
    without one the facility needs attention (or fails, if the policy says so)."""

    policy: Policy
    produced_on: dt.date
    name: str = "audit_valid"

    def covering(self, facility: FacilityEvidence) -> list[Mapping[str, Any]]:
        """The audits that count for this production date."""
        start = _months_before(self.produced_on, self.policy.audit_validity_months)
        return [
            a
            for a in facility.audits
            if start <= dt.date.fromisoformat(a["body"]["end_date"]) <= self.produced_on
        ]

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        audits = self.covering(facility)
        if not audits:
            return _result(
                self.name,
                Outcome(self.policy.missing_audit),
                f"{facility.name}: no anchored audit ended in the "
                f"{self.policy.audit_validity_months} months before {self.produced_on}",
                facility,
            )
        latest = max(audits, key=lambda a: str(a["body"]["end_date"]))["body"]
        return _result(
            self.name,
            Outcome.PASS,
            f"{facility.name}: {latest['standard']} audit ({latest['notice']}) "
            f"ended {latest['end_date']}",
            facility,
        )


@dataclass(frozen=True)
class NoForcedLabourFindings:
    """No finding with an ILO forced labour indicator is still open at a failing severity."""

    policy: Policy
    audits: RecentAudit
    name: str = "forced_labour_findings"

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        worst, reasons = Outcome.PASS, []
        for audit in self.audits.covering(facility):
            for f in audit["findings"]:
                if not f.get("ilo_indicators") or f["status"] not in OPEN_STATUSES:
                    continue
                if f["severity"] in self.policy.fail_severities:
                    outcome = Outcome.FAIL
                elif f["severity"] in self.policy.attention_severities:
                    outcome = Outcome.ATTENTION
                else:
                    continue
                worst = max(worst, outcome, key=lambda o: o.rank)
                reasons.append(
                    f"{f['severity']} finding {f['id']} ({', '.join(f['ilo_indicators'])}) "
                    f"is {f['status']}: {f['description']}"
                )
        if not reasons:
            return _result(
                self.name,
                Outcome.PASS,
                f"{facility.name}: no open forced labour finding at a severity that counts",
                facility,
            )
        return _result(self.name, worst, f"{facility.name}: " + "; ".join(reasons), facility)


@dataclass(frozen=True)
class AttestationsInForce:
    """At least one anchored, unrevoked attestation was valid on the production date."""

    produced_on: dt.date
    name: str = "attestations_in_force"

    def __call__(self, facility: FacilityEvidence) -> CheckResult:
        day = self.produced_on.isoformat()
        valid = [
            a["claim"] for a in facility.attestations if a["valid_from"] <= day <= a["valid_until"]
        ]
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
        if not flagged:
            return _result(
                self.name,
                Outcome.PASS,
                f"{facility.name}: not on the DOL forced labour list ({self.goods.label})",
                facility,
            )
        notices = {a["body"]["notice"] for a in self.audits.covering(facility)}
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
