"""Verify one batch end to end: the integrity of every entry the verdict depends on, then
the labour provenance policy for every upstream facility and for the trace itself.

Everything is read through an `EvidenceSource` (a workspace's mirror or a bundle), so the
same rules judge both."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from labourledger.audits import AttestationView, AuditView
from labourledger.envelope import to_hex
from labourledger.gcpause import gc_paused
from labourledger.grievances import GrievanceView
from labourledger.kinds import operators_named
from labourledger.verify import listing
from labourledger.verify.completeness import Missing, index_subjects, missing_from_evidence
from labourledger.verify.evidence import BatchEvidence, collect_evidence
from labourledger.verify.goods import GoodsList
from labourledger.verify.grievances import (
    UpdatedByChannelOrAuditor,
    WorkerGrievances,
    counted_grievances,
)
from labourledger.verify.integrity import check_integrity
from labourledger.verify.issuers import IssuerOperatesFacility
from labourledger.verify.lineage import LineageInOrder
from labourledger.verify.policy import (
    AttestationsInForce,
    FacilityEvidence,
    HighRiskNotice,
    NoForcedLabourFindings,
    Policy,
    RecentAudit,
    TraceComplete,
)
from labourledger.verify.relied import check_relied, read_relied
from labourledger.verify.results import CheckResult, Outcome
from labourledger.verify.source import EvidenceSource
from labourledger.verify.trust import accrediting_admins, trust_checks
from labourledger.verify.verdict import CheckTally, VerificationReport

if TYPE_CHECKING:
    from labourledger.envelope import SignedEntry
    from labourledger.progress import Progress

__all__ = ["verify_batch"]

NOT_COUNTED = "; not counted"


def _operators(
    evidence: BatchEvidence, entries: Mapping[str, SignedEntry], trusted: set[str]
) -> dict[str, frozenset[str]]:
    """Each facility's operators, named by its registrations that passed every check."""
    return {
        facility_id: operators_named(
            (entries[i].issuer, entries[i].body) for i in ids if i in trusted
        )
        for facility_id, ids in evidence.registrations.items()
    }


def _checked_updates(audit: AuditView, failed: set[str]) -> AuditView:
    """The audit with every finding update that failed a check marked as not counting."""
    if not failed:
        return audit
    findings = [
        f.model_copy(
            update={
                "history": [
                    h.model_copy(update={"state": "failed"}) if h.entry_id in failed else h
                    for h in f.history
                ]
            }
        )
        for f in audit.findings
    ]
    return audit.model_copy(update={"findings": findings})


#: What a withdrawn entry's kind means for the verdict, where more than "not counted".
_NOT_COUNTED = {
    "transformation": "not counted; the lot it made is traced without these inputs (over "
    "its facility's supply links, if nothing else made the lot)",
}


def _missing(
    source: EvidenceSource, evidence: BatchEvidence, held: Callable[[str, str, int], bool]
) -> Missing:
    """What the chain's completeness index lists about this batch that the evidence lacks."""
    relied_on: dict[str, str | None] = dict.fromkeys(evidence.entry_ids)
    parents: dict[str, str] = {}
    for facility_id in evidence.facilities:
        for audit in evidence.audits[facility_id]:
            parents[audit.entry_id] = facility_id
            for finding in audit.findings:
                relied_on.update((step.entry_id, facility_id) for step in finding.history)
        for grievance in evidence.grievances[facility_id]:
            parents[grievance.entry_id] = facility_id
            relied_on.update((step.entry_id, facility_id) for step in grievance.history)
        relied_on.update((i, facility_id) for i in evidence.registrations[facility_id])
        relied_on.update((a.entry_id, facility_id) for a in evidence.attestations[facility_id])
    lots = {
        n["id"]: evidence.batches.get(n["id"], {}).get("facility")
        for n in evidence.trace["nodes"]
        if n["kind"] == "batch"
    }
    subjects = index_subjects(evidence.facilities, relied_on, parents, lots)
    events = source.index_events(subjects)
    held_ids = source.holds(to_hex(e.entry_id) for e in events)
    return missing_from_evidence(
        events,
        subjects,
        held_ids,
        # Read only for revocations on chain alone, which are few.
        lambda target: source.entries([target])[target].issuer,
        lambda account, block: held("ADMIN", account, block),
    )


View = TypeVar("View", AuditView, AttestationView)


def _show_revoked(evidence: BatchEvidence, revoked: Mapping[str, list[str]]) -> None:
    """Mark audits and attestations revoked on chain alone as revoked in the report too."""

    def marked(view: View) -> View:
        more: list[str] = revoked.get(view.entry_id, [])
        return view.model_copy(update={"revoked_by": [*view.revoked_by, *more]}) if more else view

    for audits in evidence.audits.values():
        audits[:] = map(marked, audits)
    for attestations in evidence.attestations.values():
        attestations[:] = map(marked, attestations)


@gc_paused()
def verify_batch(
    source: EvidenceSource,
    batch: str,
    policy: Policy,
    goods: GoodsList | None = None,
    *,
    progress: Progress | None = None,
    all_checks: bool = False,
) -> VerificationReport:
    """The verification report: verdict, the checks a reader needs (every one with
    `all_checks`), and the evidence."""
    goods = goods or policy.goods()
    evidence = collect_evidence(source, batch)
    entry_ids = evidence.entry_ids  # a fresh list on each read: read once
    trace = evidence.trace
    # Read and hashed (in workers, for many) while this process reads the chain's index
    # and the revocations, which say which entries are checked at all.
    registrations = {i for ids in evidence.registrations.values() for i in ids}
    read = read_relied(source, entry_ids, registrations)
    revocations = source.revocations(entry_ids)
    held = source.has_role
    missing = _missing(source, evidence, held)
    revoked = {**revocations.counted}
    for target, chain_only in missing.revoked.items():
        revoked[target] = revoked.get(target, []) + chain_only
    _show_revoked(evidence, missing.revoked)
    tally = CheckTally(all_checks=all_checks)
    # Failed checks on revocations that do not count: named, but outside the verdict, since
    # a revocation nobody may issue says nothing about the batch.
    ignored = [
        CheckResult(
            "revocation",
            Outcome.FAIL,
            f"revocation of {item.target} ignored: {item.reason}",
            entry_id=item.entry_id,
        )
        for item in revocations.ignored
    ]
    # Checks of the chain and its index, reported after those of the facilities.
    chain_checks = source.chain_checks() + (
        missing.results
        or [CheckResult("complete", Outcome.PASS, "the chain's index lists nothing missing here")]
    )
    checked = check_relied(
        source, entry_ids, revoked, held, tally, keep=registrations, read=read, progress=progress
    )
    relied, blocks, failed_integrity = checked.relied, checked.blocks, checked.failed
    for entry_id in entry_ids:
        if entry_id in revoked:
            tally.add(
                CheckResult(
                    "not_revoked",
                    Outcome.ATTENTION,
                    f"{relied[entry_id].kind} withdrawn by {', '.join(revoked[entry_id])}: "
                    + _NOT_COUNTED.get(relied[entry_id].kind, "not counted"),
                    entry_id=entry_id,
                )
            )
            continue
        checks = checked.results.pop(entry_id, [])
        if relied[entry_id].kind == "grievance_update":
            update = checked.full[entry_id]
            channel = relied[update.body["grievance"]].issuer
            checks.append(UpdatedByChannelOrAuditor(channel, blocks.get(entry_id), held)(update))
            if any(c.outcome is Outcome.FAIL for c in checks):
                failed_integrity.add(entry_id)
        tally.extend(checks)

    # Carried but not relied on: still signed evidence, so tampering with it fails too.
    extra = [i for i in source.carried() if i not in evidence.counted]
    extra_proofs = source.proofs(extra)
    for entry_id, entry in source.entries(extra).items():
        stored = extra_proofs.get(entry_id)
        anchored = source.anchored_root(stored.proof.root) if stored else None
        tally.extend(
            check_integrity(
                entry, stored.proof if stored else None, anchored, source.domain,
                source.chain.confirmations,
            )
        )  # fmt: skip

    trusted = [i for i in entry_ids if i not in revoked and i not in failed_integrity]
    accreditation = accrediting_admins(
        source.role_history(), {(relied[i].issuer, blocks[i]) for i in trusted if i in blocks}
    )
    chain_checks += trust_checks(accreditation, policy.trusted_admins)
    shipped = source.runtime_code_matches()
    contract = source.chain.contract
    chain_checks.append(
        CheckResult(
            "contract_code",
            Outcome.PASS if shipped else Outcome.FAIL,
            f"the contract at {contract} runs "
            + ("the LabourLedger code this package ships" if shipped else "some other code"),
        )
    )
    operates = IssuerOperatesFacility(_operators(evidence, checked.full, set(trusted)))
    for entry_id in checked.speakers:
        if entry_id in failed_integrity:
            continue
        spoke = operates(checked.full[entry_id])
        if not spoke.passed:
            # Not counted, and named; failing the batch would let any key with a
            # role fail any batch by signing for a facility it does not operate.
            spoke = replace(spoke, outcome=Outcome.ATTENTION, reason=spoke.reason + NOT_COUNTED)
            failed_integrity.add(entry_id)
        tally.add(spoke)

    if trace["batch"] not in evidence.batches or trace["batch"] in revoked:
        tally.add(
            CheckResult("batch", Outcome.FAIL, f"batch {trace['batch']} is not a valid batch here")
        )

    def counted(item: AuditView | AttestationView) -> bool:
        return (
            item.anchor is not None
            and not item.revoked_by
            and item.entry_id not in revoked
            and item.entry_id not in failed_integrity
        )

    def counts(entry_id: str) -> bool:
        return entry_id not in revoked and entry_id not in failed_integrity

    heard: dict[str, list[GrievanceView]] = {}
    # The audits a default report lists: those the verdict weighs, and those not counted,
    # so a reader sees why.
    weighed: dict[str, set[str]] = {}
    for facility_id, facility in evidence.facilities.items():
        produced_on = evidence.dates[facility_id]
        # Not the facility type: Open Supply Hub's "Textile or Material Production" names
        # any material maker, and would put a battery cell maker's goods on the textile list.
        texts = list(facility.get("processing_types", []))
        texts += evidence.materials.get(facility_id, [])
        fe = FacilityEvidence(
            facility_id=facility_id,
            name=facility["name"],
            country=facility["country"],
            tier=facility.get("tier"),
            audits=[
                _checked_updates(a, failed_integrity | set(revoked))
                for a in evidence.audits[facility_id]
                if counted(a)
            ],
            attestations=[a for a in evidence.attestations[facility_id] if counted(a)],
            texts=texts,
        )
        recent = RecentAudit(policy, produced_on)
        weighed[facility_id] = {a.entry_id for a in recent.covering(fe)} | {
            a.entry_id for a in evidence.audits[facility_id] if not counted(a)
        }
        for check in (
            recent,
            NoForcedLabourFindings(policy, recent),
            AttestationsInForce(produced_on),
            HighRiskNotice(policy, recent, goods),
        ):
            tally.add(check(fe))
        heard[facility_id] = counted_grievances(
            evidence.grievances[facility_id], counts, checked.anchored_at
        )
        tally.add(
            WorkerGrievances(policy.fail_severities, policy.attention_severities, produced_on)(
                facility_id, facility["name"], heard[facility_id]
            )
        )
    tally.extend(TraceComplete(policy)(trace))
    in_order = LineageInOrder(evidence.batches)
    tally.extend(in_order(t) for t in evidence.transformations)
    tally.extend(chain_checks)
    entry_counts, listed = listing.entry_listing(
        entry_ids, relied, revoked, tally.entries, full=all_checks
    )
    return VerificationReport(
        verdict=tally.verdict,
        all_checks=all_checks,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        batch=_batch(evidence),
        chain={
            "label": source.chain.label,
            "chain_id": source.chain.chain_id,
            "contract": contract,
            "embedded": source.chain.embedded,
        },
        goods_list=goods.model_dump(
            mode="json", include={"title", "edition", "source", "coverage"}
        ),
        checks=tally.kept,
        passed=dict(tally.passed),
        counts=dict(tally.counts),
        stages=listing.stages(
            evidence,
            tally.kept,
            heard,
            None if all_checks else listing.Summary(weighed, policy.weighs),
        ),
        graph={
            "nodes": [_graph_node(n, evidence) for n in trace["nodes"]],
            "edges": trace["edges"],
        },
        anchors=listing.anchors(entry_ids, relied, source.anchored_root),
        entry_counts=entry_counts,
        entries=listed,
        problems=trace["problems"],
        ignored=ignored,
        trust={
            "contract": contract,
            "admins": accreditation.admins,
            "runtime_code_matches": shipped,
            "trusted_admins": [a.lower() for a in policy.trusted_admins],
        },
    )


def _batch(evidence: BatchEvidence) -> dict[str, Any]:
    batch_id = evidence.trace["batch"]
    root = evidence.batches.get(batch_id, {})
    product = evidence.products.get(root.get("product") or "")
    return {
        "batch_id": batch_id,
        **{k: root.get(k) for k in ("lot", "quantity", "unit", "produced_at", "facility")},
        "product": product,
    }


def _graph_node(node: Mapping[str, Any], evidence: BatchEvidence) -> dict[str, Any]:
    """A node of the report's graph, named from signed bodies (absent ones stay unnamed)."""
    batch = evidence.batches.get(node["id"])
    facility = evidence.facilities.get(
        batch["facility"] if batch else node.get("facility") or node["id"], {}
    )
    name = facility.get("name")
    return {
        "id": node["id"],
        "kind": node["kind"],
        "label": f"lot {batch['lot'] if batch else None}" if node["kind"] == "batch" else name,
        "facility_name": name,
        "country": facility.get("country"),
        "tier": facility.get("tier"),
    }
