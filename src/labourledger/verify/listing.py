"""What a verification report lists of the evidence: the stages with their audits, the
anchors, and the entries.

A batch relies on tens of thousands of entries; the report's size follows the facilities
and the problems found, not the entries. By default a stage lists only the audits its
verdict weighs and those that do not count (revoked, pending, failing a check), counting
the others; a listed audit is a summary (its signed top-level fields, anchor, state,
findings counted by status, and in full the open findings the policy weighs). An anchor is
listed once with the number of entries under it, and only the entries a reader must look
at are listed (revoked, or with a check that is not a pass), the rest counted by kind.
`all_checks` lists every audit in full and every entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labourledger.envelope import to_hex
from labourledger.grievances import GrievanceView, count
from labourledger.verify.results import CheckResult, Outcome, worst

if TYPE_CHECKING:
    from labourledger.audits import AuditView, FindingView
    from labourledger.verify.evidence import BatchEvidence
    from labourledger.verify.integrity import AnchoredRoot
    from labourledger.verify.relied import ReliedEntry

__all__ = ["Summary", "anchors", "audit_listing", "entry_listing", "stages"]

#: An audit's fields shown in both forms; the summary adds `open_findings` (and leaves
#: the facility, the stage's, out of the body), the full form `facility` and every finding.
_SUMMARY_EXCLUDES = {"facility", "findings"}


@dataclass(frozen=True)
class Summary:
    """What a default report lists of each stage's audits: the rules are the verifier's
    (`verify_batch` and its policy), applied here."""

    #: By facility, the audits listed: those the verdict weighs and those not counted.
    audits: Mapping[str, Collection[str]]
    #: Whether an open finding is shown in full (the others are in `findings_by_status`).
    finding: Callable[[FindingView], bool]


def audit_listing(
    audit: AuditView, shown: Callable[[FindingView], bool] | None = None
) -> dict[str, Any]:
    """An audit as the report lists it: every finding in full, or with `shown` a summary
    with the open findings it shows in full."""
    listed: dict[str, Any] = audit.model_dump(
        mode="json", exclude=_SUMMARY_EXCLUDES if shown else set()
    )
    listed["state"] = audit.state
    listed["findings_by_status"] = dict(Counter(f.status.value for f in audit.findings))
    if shown:
        del listed["body"]["facility"]  # the stage's
        listed["open_findings"] = [
            f.model_dump(mode="json") for f in audit.open_findings if shown(f)
        ]
    return listed


def stages(
    evidence: BatchEvidence,
    kept: list[CheckResult],
    heard: Mapping[str, list[GrievanceView]],
    summary: Summary | None,
) -> list[dict[str, Any]]:
    """One stage per upstream facility, deepest tier first, with its worst outcome (passes
    that were only counted cannot change it). Its audits are summarised as `summary` says,
    the others counted; without one, every audit is listed in full."""
    by_facility: dict[str | None, list[CheckResult]] = {}
    for result in kept:
        by_facility.setdefault(result.facility, []).append(result)
    # Grouped once: scanning every batch for each facility made a 10,000-facility verify
    # quadratic (22 of its 57 s).
    batches: dict[str, list[dict[str, Any]]] = {}
    for b in evidence.batches.values():
        batches.setdefault(b["facility"], []).append(
            {k: b.get(k) for k in ("batch_id", "lot", "produced_at", "quantity", "unit")}
        )
    documents: dict[str, list[dict[str, Any]]] = {}
    for t in evidence.transformations:
        documents.setdefault(t["facility"], []).extend(
            {**d, "transformation": t["entry_id"]} for d in t.get("documents", [])
        )
    listed: list[dict[str, Any]] = []
    for facility_id, facility in evidence.facilities.items():
        outcomes = by_facility.get(facility_id, [])
        audits = evidence.audits[facility_id]
        if summary:
            weighed = summary.audits.get(facility_id, ())
            shown = [audit_listing(a, summary.finding) for a in audits if a.entry_id in weighed]
        else:
            shown = [audit_listing(a) for a in audits]
        listed.append(
            {
                "tier": facility.get("tier"),
                "facility": facility,
                "batches": batches.get(facility_id, []),
                "documents": documents.get(facility_id, []),
                "audits": shown,
                "audits_not_listed": len(audits) - len(shown),
                "attestations": [
                    a.model_dump(mode="json") for a in evidence.attestations[facility_id]
                ],
                # Counts only: a grievance's own entry is in `entries`, its report nowhere.
                "grievances": count(facility_id, heard.get(facility_id, [])).to_dict(),
                "outcome": worst(outcomes).value if outcomes else "pass",
            }
        )
    listed.sort(key=lambda s: -int(s["tier"] or 0))
    return listed


def anchors(
    entry_ids: list[str],
    relied: Mapping[str, ReliedEntry],
    anchored_root: Callable[[bytes], AnchoredRoot | None],
) -> list[dict[str, Any]]:
    """Each root the relied-on entries are anchored under, once: its transaction, the block
    the chain holds it in (None: the chain lacks it) and how many of the entries it holds."""
    under: Counter[bytes] = Counter()
    tx_hashes: dict[bytes, str | None] = {}
    for entry_id in entry_ids:
        entry = relied[entry_id]
        if entry.root is not None:
            under[entry.root] += 1
            tx_hashes.setdefault(entry.root, entry.tx_hash)
    listed = []
    for root, entries in under.items():
        found = anchored_root(root)  # read once per root during the checks already
        listed.append(
            {
                "root": to_hex(root),
                "tx_hash": tx_hashes[root],
                "block_number": found.block_number if found else None,
                "entries": entries,
            }
        )
    return sorted(listed, key=lambda a: (a["block_number"] is None, a["block_number"] or 0))


def entry_listing(
    entry_ids: list[str],
    relied: Mapping[str, ReliedEntry],
    revoked: Mapping[str, list[str]],
    outcomes: Mapping[str, Outcome],
    *,
    full: bool,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The relied-on entries counted by kind, and those listed: with `full` all, else only
    those revoked or with a check that is not a pass. Each names its anchor by root."""
    by_kind: Counter[str] = Counter()
    listed = []
    for entry_id in entry_ids:
        entry = relied[entry_id]
        by_kind[entry.kind] += 1
        outcome = outcomes.get(entry_id, Outcome.PASS)
        if not (full or outcome is not Outcome.PASS or entry_id in revoked):
            continue
        listed.append(
            {
                "entry_id": entry_id,
                "kind": entry.kind,
                "issuer": entry.issuer,
                "outcome": outcome.value,
                "revoked_by": revoked.get(entry_id, []),
                "root": None if entry.root is None else to_hex(entry.root),
            }
        )
    return dict(sorted(by_kind.items())), listed
