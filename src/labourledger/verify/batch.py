"""Verify one batch end to end: the integrity of every entry the verdict depends on, then
the labour provenance policy for every upstream facility and for the trace itself."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from labourledger.authority import roles_allowed, speaks_for_facility
from labourledger.grievances import GrievanceView, count, grievances_of
from labourledger.kinds import operators_named
from labourledger.redaction import redact_url
from labourledger.verify.completeness import Missing, index_subjects, missing_from_evidence
from labourledger.verify.goods import GoodsList
from labourledger.verify.grievances import (
    UpdatedByChannelOrAuditor,
    WorkerGrievances,
    counted_grievances,
)
from labourledger.verify.integrity import IssuerHeldRole, IssuerOperatesFacility
from labourledger.verify.policy import (
    AttestationsInForce,
    FacilityEvidence,
    HighRiskNotice,
    NoForcedLabourFindings,
    Policy,
    RecentAudit,
    TraceComplete,
    production_dates,
)
from labourledger.verify.results import CheckResult, Outcome, worst
from labourledger.verify.trust import accrediting_admins, trust_checks

if TYPE_CHECKING:
    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.progress import Progress

__all__ = ["BatchEvidence", "collect_evidence", "verify_batch"]

REPORT_FORMAT = "labourledger-report/1"
NOT_COUNTED = "; not counted"


@dataclass
class BatchEvidence:
    """A batch's trace and every entry its verdict depends on."""

    trace: dict[str, Any]
    #: Signed batch and product bodies by id, with the id.
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every entry the verdict depends on, once each, in order (a dict keeps both cheap).
    counted: dict[str, None] = field(default_factory=dict)
    facilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    dates: dict[str, dt.date] = field(default_factory=dict)
    audits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    attestations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    transformations: list[dict[str, Any]] = field(default_factory=list)
    #: Every registration of each facility, in anchor order: they name its operators.
    registrations: dict[str, list[str]] = field(default_factory=dict)
    grievances: dict[str, list[GrievanceView]] = field(default_factory=dict)

    @property
    def entry_ids(self) -> list[str]:
        """The entries the verdict depends on, in the order they were counted in."""
        return list(self.counted)

    def add(self, *ids: str | None) -> None:
        """Count entries in, once each, in order."""
        self.counted.update((entry_id, None) for entry_id in ids if entry_id)


def collect_evidence(ledger: Ledger, batch: str) -> BatchEvidence:
    """Trace the batch and gather the entries about it and its upstream facilities."""
    trace, audits = ledger.trace_with_audits(batch)
    evidence = BatchEvidence(trace)
    mirror = ledger.mirror
    nodes = sorted(trace["nodes"], key=lambda n: n["depth"])
    batch_nodes = [n["id"] for n in nodes if n["kind"] == "batch"]
    # The projections only find the entries; what is reported comes from their signed bodies.
    batches = mirror.lookup("batches", "batch_id", batch_nodes)
    for entry in ledger.entries(
        [batches[b]["entry_id"] for b in batch_nodes if b in batches]
    ).values():
        evidence.batches[_hex(entry.subject)] = {"batch_id": _hex(entry.subject), **entry.body}
        evidence.add(_hex(entry.entry_id))
    products = mirror.lookup(
        "products", "product_id", [b["product"] for b in evidence.batches.values()]
    )
    for entry in ledger.entries([p["entry_id"] for p in products.values()]).values():
        evidence.products[_hex(entry.subject)] = {"product_id": _hex(entry.subject), **entry.body}
        evidence.add(_hex(entry.entry_id))
    evidence.add(*(e["via"] for e in trace["edges"]))
    root_date = _date(evidence.batches.get(trace["batch"], {}).get("produced_at"))
    signed_nodes = [
        n | {"produced_at": b["produced_at"], "facility": b["facility"]}
        if (b := evidence.batches.get(n["id"]))
        else n
        for n in nodes
    ]
    evidence.dates = production_dates(signed_nodes, root_date or dt.date.today())
    registrations = mirror.lookup("facilities", "facility_id", list(evidence.dates))
    registered = [f for f in evidence.dates if f in registrations]
    bodies = ledger.entries([registrations[f]["entry_id"] for f in registered])
    attestations = ledger.attestations_of(registered)
    timelines = mirror.timelines(registered, "facility")
    grievances = grievances_of(ledger, registered)
    for facility_id in registered:
        entry_id = registrations[facility_id]["entry_id"]
        evidence.facilities[facility_id] = {"facility_id": facility_id, **bodies[entry_id].body}
        evidence.add(entry_id)
        evidence.registrations[facility_id] = [r["entry_id"] for r in timelines[facility_id]]
        evidence.add(*evidence.registrations[facility_id])
        evidence.audits[facility_id] = audits.get(facility_id, [])
        for audit in evidence.audits[facility_id]:
            evidence.add(audit["entry_id"])
            for finding in audit["findings"]:
                evidence.add(*(h["entry_id"] for h in finding["history"]))
        evidence.attestations[facility_id] = attestations.get(facility_id, [])
        evidence.add(*(a["entry_id"] for a in evidence.attestations[facility_id]))
        evidence.grievances[facility_id] = grievances.get(facility_id, [])
        for grievance in evidence.grievances[facility_id]:
            evidence.add(*(step.entry_id for step in grievance.history))
    made = [e["via"] for e in trace["edges"] if e["kind"] == "transformation"]
    for entry_id, entry in ledger.entries(made).items():
        evidence.transformations.append({"entry_id": entry_id, **entry.body})
    return evidence


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


def _checked_updates(audit: Mapping[str, Any], failed: set[str]) -> Mapping[str, Any]:
    """The audit with every finding update that failed a check marked as not counting."""
    if not failed:
        return audit
    findings = [
        {
            **f,
            "history": [
                {**h, "state": "failed"} if h["entry_id"] in failed else h for h in f["history"]
            ],
        }
        for f in audit["findings"]
    ]
    return {**audit, "findings": findings}


def _missing(
    ledger: Ledger,
    evidence: BatchEvidence,
    entries: Mapping[str, SignedEntry],
    held: Callable[[str, str, int], bool],
) -> Missing:
    """What the chain's completeness index lists about this batch that the evidence lacks."""
    relied_on: dict[str, str | None] = dict.fromkeys(evidence.entry_ids)
    parents: dict[str, str] = {}
    for facility_id in evidence.facilities:
        for audit in evidence.audits[facility_id]:
            parents[audit["entry_id"]] = facility_id
            for finding in audit["findings"]:
                relied_on.update((h["entry_id"], facility_id) for h in finding["history"])
        for grievance in evidence.grievances[facility_id]:
            parents[grievance.entry_id] = facility_id
            relied_on.update((step.entry_id, facility_id) for step in grievance.history)
        relied_on.update((i, facility_id) for i in evidence.registrations[facility_id])
        relied_on.update((a["entry_id"], facility_id) for a in evidence.attestations[facility_id])
    subjects = index_subjects(evidence.facilities, relied_on, parents)
    events = ledger.chain.index_events(subjects, ledger.config.chain.deploy_block)
    stored = ledger.mirror.get_entries(["0x" + e.entry_id.hex() for e in events])
    return missing_from_evidence(
        events,
        subjects,
        stored,
        lambda target: entries[target].issuer,
        lambda account, block: held("ADMIN", account, block),
    )


def _show_revoked(evidence: BatchEvidence, revoked: Mapping[str, list[str]]) -> None:
    """Mark audits and attestations revoked on chain alone as revoked in the report too."""
    for views in (*evidence.audits.values(), *evidence.attestations.values()):
        views[:] = [
            {**v, "revoked_by": [*v["revoked_by"], *revoked[v["entry_id"]]]}
            if v["entry_id"] in revoked
            else v
            for v in views
        ]


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def verify_batch(
    ledger: Ledger,
    batch: str,
    policy: Policy,
    goods: GoodsList | None = None,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The verification report: verdict, every check with its reason, and the evidence."""
    goods = goods or policy.goods()
    evidence = collect_evidence(ledger, batch)
    trace = evidence.trace
    revocations = ledger.revocations(evidence.entry_ids)
    entries = ledger.entries(evidence.entry_ids)

    @functools.cache
    def held(role: str, account: str, block: int) -> bool:
        return ledger.chain.has_role(role, account, block)

    missing = _missing(ledger, evidence, entries, held)
    revoked = {**revocations.counted}
    for target, chain_only in missing.revoked.items():
        revoked[target] = revoked.get(target, []) + chain_only
    _show_revoked(evidence, missing.revoked)
    results: list[CheckResult] = []
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
    failed_integrity: set[str] = set()
    # Checks of the chain and its index, reported after those of the facilities.
    chain_checks = missing.results or [
        CheckResult("complete", Outcome.PASS, "the chain's index lists nothing missing here")
    ]
    proofs = ledger.stored_proofs(evidence.entry_ids)
    blocks: dict[str, int] = {}
    anchored_at: dict[str, int] = {}
    integrity = ledger.check_integrity_many(
        [(entries[i], proofs.get(i)) for i in evidence.entry_ids if i not in revoked]
    )
    for done, entry_id in enumerate(evidence.entry_ids):
        if progress:
            progress(done, len(evidence.entry_ids))  # the signature checks are the work
        entry = entries[entry_id]
        if entry_id in revoked:
            results.append(
                CheckResult(
                    "not_revoked",
                    Outcome.ATTENTION,
                    f"{entry.kind} withdrawn by {', '.join(revoked[entry_id])}: not counted",
                    entry_id=entry_id,
                )
            )
            continue
        proof = proofs.get(entry_id)
        anchored = ledger.anchored_root(proof.root) if proof else None
        if anchored:
            blocks[entry_id] = anchored.block_number
            anchored_at[entry_id] = anchored.timestamp
        checks = next(integrity)
        role_check = IssuerHeldRole(
            roles_allowed(entry.kind, entry.body),
            anchored.block_number if anchored else None,
            held,
        )
        checks.append(role_check(entry))
        if entry.kind == "grievance_update":
            channel = entries[entry.body["grievance"]].issuer
            block = anchored.block_number if anchored else None
            checks.append(UpdatedByChannelOrAuditor(channel, block, held)(entry))
        # A pending anchor (too few confirmations) needs attention; the entry still counts.
        if any(c.outcome is Outcome.FAIL for c in checks):
            failed_integrity.add(entry_id)
        results += checks

    trusted = [i for i in evidence.entry_ids if i not in revoked and i not in failed_integrity]
    accreditation = accrediting_admins(
        ledger.role_history(), {(entries[i].issuer, blocks[i]) for i in trusted if i in blocks}
    )
    chain_checks += trust_checks(accreditation, policy.trusted_admins)
    shipped = ledger.chain.runtime_code_matches()
    chain_checks.append(
        CheckResult(
            "contract_code",
            Outcome.PASS if shipped else Outcome.FAIL,
            f"the contract at {ledger.config.chain.contract} runs "
            + ("the LabourLedger code this package ships" if shipped else "some other code"),
        )
    )
    operates = IssuerOperatesFacility(_operators(evidence, entries, set(trusted)))
    for entry_id in trusted:
        entry = entries[entry_id]
        if speaks_for_facility(
            entry.kind,
            entry.body,
            functools.partial(held, "BRAND", entry.issuer, blocks[entry_id]),
        ):
            spoke = operates(entry)
            if not spoke.passed:
                # Not counted, and named; failing the batch would let any key with a
                # role fail any batch by signing for a facility it does not operate.
                spoke = replace(spoke, outcome=Outcome.ATTENTION, reason=spoke.reason + NOT_COUNTED)
                failed_integrity.add(entry_id)
            results.append(spoke)

    if trace["batch"] not in evidence.batches or trace["batch"] in revoked:
        results.append(
            CheckResult("batch", Outcome.FAIL, f"batch {trace['batch']} is not a valid batch here")
        )

    def counted(item: Mapping[str, Any]) -> bool:
        return (
            item.get("anchor") is not None
            and not item["revoked_by"]
            and item["entry_id"] not in revoked
            and item["entry_id"] not in failed_integrity
        )

    def checked(entry_id: str) -> bool:
        return entry_id not in revoked and entry_id not in failed_integrity

    facility_evidence = []
    heard: dict[str, list[GrievanceView]] = {}
    supplies = ledger.mirror.supplies(evidence.facilities)
    for facility_id, facility in evidence.facilities.items():
        produced_on = evidence.dates[facility_id]
        # Not the facility type: Open Supply Hub's "Textile or Material Production" names
        # any material maker, and would put a battery cell maker's goods on the textile list.
        texts = list(facility.get("processing_types", []))
        texts += [link["material"] for link in supplies.get(facility_id, [])]
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
        facility_evidence.append(fe)
        recent = RecentAudit(policy, produced_on)
        for check in (
            recent,
            NoForcedLabourFindings(policy, recent),
            AttestationsInForce(produced_on),
            HighRiskNotice(policy, recent, goods),
        ):
            results.append(check(fe))
        heard[facility_id] = counted_grievances(
            evidence.grievances[facility_id], checked, anchored_at
        )
        results.append(
            WorkerGrievances(policy.fail_severities, policy.attention_severities, produced_on)(
                facility_id, facility["name"], heard[facility_id]
            )
        )
    results += TraceComplete(policy)(trace)
    results += chain_checks
    verdict = worst(results)
    report = _report(ledger, evidence, entries, results, verdict, goods, heard)
    report["ignored"] = [r.to_dict() for r in ignored]
    report["trust"] = {
        "contract": ledger.config.chain.contract,
        "admins": accreditation.admins,
        "runtime_code_matches": shipped,
        "trusted_admins": [a.lower() for a in policy.trusted_admins],
    }
    return report


def _report(
    ledger: Ledger,
    evidence: BatchEvidence,
    entries: Mapping[str, SignedEntry],
    results: list[CheckResult],
    verdict: Outcome,
    goods: GoodsList,
    heard: Mapping[str, list[GrievanceView]],
) -> dict[str, Any]:
    trace = evidence.trace
    cfg = ledger.config.chain
    root = evidence.batches.get(trace["batch"], {})
    product = evidence.products.get(root.get("product") or "")
    stages: list[dict[str, Any]] = []
    by_facility: dict[str | None, list[CheckResult]] = {}
    for result in results:
        by_facility.setdefault(result.facility, []).append(result)
    for facility_id, facility in evidence.facilities.items():
        outcomes = by_facility.get(facility_id, [])
        stages.append(
            {
                "tier": facility.get("tier"),
                "facility": facility,
                "batches": [
                    {k: b.get(k) for k in ("batch_id", "lot", "produced_at", "quantity", "unit")}
                    for b in evidence.batches.values()
                    if b["facility"] == facility_id
                ],
                "documents": [
                    {**d, "transformation": t["entry_id"]}
                    for t in evidence.transformations
                    if t["facility"] == facility_id
                    for d in t.get("documents", [])
                ],
                "audits": evidence.audits.get(facility_id, []),
                "attestations": evidence.attestations.get(facility_id, []),
                # Counts only: a grievance's own entry is in `entries`, its report nowhere.
                "grievances": count(facility_id, heard.get(facility_id, [])).to_dict(),
                "outcome": worst(outcomes).value if outcomes else "pass",
            }
        )
    stages.sort(key=lambda s: -int(s["tier"] or 0))
    return {
        "format": REPORT_FORMAT,
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "batch": {
            "batch_id": trace["batch"],
            **{k: root.get(k) for k in ("lot", "quantity", "unit", "produced_at", "facility")},
            "product": product,
        },
        "verdict": verdict.value.upper(),
        "chain": {
            "label": redact_url(cfg.url),
            "chain_id": cfg.chain_id,
            "contract": cfg.contract,
            "embedded": cfg.is_embedded,
        },
        "goods_list": goods.model_dump(
            mode="json", include={"title", "edition", "source", "coverage"}
        ),
        "checks": [r.to_dict() for r in results],
        "stages": stages,
        "graph": {
            "nodes": [_graph_node(n, evidence) for n in trace["nodes"]],
            "edges": trace["edges"],
        },
        "entries": [
            {k: v for k, v in view.items() if k != "body" and k != "salt"}
            for view in ledger.describe_many(evidence.entry_ids, loaded=entries)
        ],
        "problems": trace["problems"],
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
