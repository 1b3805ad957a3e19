"""Views: entries, audits and attestations as the CLI, the service and bundles show them,
each with its anchor, its proof and the revocations that count against it. The entry
views' models are in `labourledger.models`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ValidationError

from labourledger.audits import (
    AttestationView,
    AuditView,
    FindingView,
    attestation_views,
    audit_views,
)
from labourledger.damage import as_model, damaged
from labourledger.envelope import SignedEntry, to_hex
from labourledger.errors import InputError, NextStep, a_kind, invalid_input, parse_date
from labourledger.mirror.store import proof_status
from labourledger.mirror.sync import chain_status
from labourledger.models import Anchor, EntryView, Proof, ProofCheck
from labourledger.verify.integrity import IncludedInAnchor, InclusionProof
from labourledger.vocabulary import FindingStatus, IloIndicator, Severity

if TYPE_CHECKING:
    from labourledger.ledger import Ledger

__all__ = [
    "attestations",
    "attestations_of",
    "audit",
    "audits",
    "audits_of",
    "describe",
    "describe_many",
    "proof",
    "stored_proof",
    "stored_proofs",
]


def describe(ledger: Ledger, entry_id: str) -> EntryView:
    """An entry with its `status`, `proof` and `anchor`; the status re-checked against the
    chain (see `labourledger.mirror.sync.chain_status`)."""
    return chain_status(ledger, describe_many(ledger, [entry_id])[0])


def describe_many(
    ledger: Ledger, entry_ids: Sequence[str], *, loaded: Mapping[str, SignedEntry] | None = None
) -> list[EntryView]:
    """`describe` of many entries, in order, in a few queries; `loaded` are entries
    already read with `entries`, so they are not read again."""
    entries = loaded if loaded is not None else ledger.entries(entry_ids)
    proofs = ledger.mirror.proofs_for(entry_ids)
    revoked = ledger.revoked(entry_ids)
    views = []
    for entry_id in entry_ids:
        entry = entries[entry_id.lower()]
        found = proofs.get(entry.id_hex)
        proof, anchor = _anchored(found) or (None, None)
        views.append(
            EntryView.model_validate(
                {
                    **dict(entry),
                    "status": proof_status(found),
                    "revoked_by": revoked.get(entry.id_hex, []),
                    "proof": proof,
                    "anchor": anchor,
                }
            )
        )
    return views


def _anchored(found: Mapping[str, Any] | None) -> tuple[Proof, Anchor] | None:
    """An entry's proof and anchor from what the mirror's `proofs_for` found, once the
    anchor was sent; None while pending."""
    if found is None or proof_status(found) == "pending":
        return None
    row = found["anchor"]
    # The mirror checked the anchor row's columns, and the leaf index's type; a proof
    # refused here holds values of the right types that no proof could.
    proof = as_model(
        Proof,
        {k: found[k] for k in ("leaf_index", "tree_size", "path")},
        table="anchors",
        key=row["root"],
    )
    # The mirror's anchor row holds more than where the root was anchored.
    anchor = as_model(
        Anchor, {k: row[k] for k in Anchor.model_fields}, table="anchors", key=row["root"]
    )
    return proof, anchor


def proof(ledger: Ledger, entry_id: str) -> ProofCheck:
    """The entry's proof and anchor, re-checked locally and by the contract itself."""
    view = describe(ledger, entry_id)
    if view.proof is None or view.anchor is None:
        raise InputError(f"entry {view.id_hex} is pending", next_step=NextStep.ANCHOR)
    proof = view.proof.inclusion(view.anchor.root)
    local = IncludedInAnchor(proof, ledger.anchored_root(proof.root), 0)(view)
    by_contract = ledger.chain.verify_inclusion(
        view.entry_id, proof.leaf_index, proof.tree_size, proof.path, proof.root
    )
    return ProofCheck(
        entry_id=view.entry_id,
        proof=view.proof,
        anchor=view.anchor,
        verified=local.passed and by_contract,
        reason=local.reason if by_contract else "the contract rejects this proof",
    )


def stored_proof(ledger: Ledger, entry_id: str) -> InclusionProof | None:
    """The mirror's proof of an entry, once its anchor was sent; None while pending."""
    return stored_proofs(ledger, [entry_id]).get(entry_id.lower())


def stored_proofs(ledger: Ledger, entry_ids: Iterable[str]) -> dict[str, InclusionProof]:
    """`stored_proof` of many entries; pending ones are absent."""
    found = ledger.mirror.proofs_for(entry_ids)
    anchored = {i: a for i, f in found.items() if (a := _anchored(f)) is not None}
    return {i: proof.inclusion(anchor.root) for i, (proof, anchor) in anchored.items()}


def audit(ledger: Ledger, audit_id: str) -> AuditView:
    """An audit: its entry, anchor, and each finding with its history and current status."""
    entry = ledger.entry(audit_id)
    if entry.kind != "audit":
        raise InputError(f"entry {audit_id}: {a_kind(entry.kind)}, not an audit")
    facility = to_hex(entry.subject)
    return next(
        view
        for view in audits_of(ledger, [facility])[facility]
        if view.entry_id == to_hex(entry.entry_id)
    )


def audits_of(ledger: Ledger, facility_ids: Iterable[str]) -> dict[str, list[AuditView]]:
    """Each facility's audits as `audit` shows them, by end date; a few queries whatever
    the number of facilities. Facilities without audits are absent."""
    return audit_views(ledger.mirror.timelines, ledger.revoked, facility_ids)


def _date_named(field: str) -> BeforeValidator:
    # InputError, not ValueError, so pydantic lets it through naming the filter alone.
    return BeforeValidator(
        lambda value: parse_date(value, field) if isinstance(value, str) else value
    )


class _AuditFilter(BaseModel):
    """`audits`' filters, checked: a value outside its vocabulary, or a date not written
    YYYY-MM-DD, would otherwise match nothing and look like no audit."""

    status: FindingStatus | None
    severity: Severity | None
    indicator: IloIndicator | None
    since: Annotated[dt.date, _date_named("since")] | None
    until: Annotated[dt.date, _date_named("until")] | None


def audits(
    ledger: Ledger,
    *,
    facility: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    indicator: str | None = None,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
) -> list[AuditView]:
    """Audits matching every filter given; status, severity and indicator select audits
    with at least one finding that has all of them (status = the current status); since
    and until bound the end date (YYYY-MM-DD). InputError naming a filter it cannot use."""
    try:
        given = _AuditFilter(
            status=status, severity=severity, indicator=indicator, since=since, until=until
        )
    except ValidationError as exc:
        raise invalid_input(exc, "filter") from None
    facility_id = ledger.facility_id(facility) if facility else None
    ids = ledger.mirror.audits(
        facility=facility_id,
        since=given.since.isoformat() if given.since else None,
        until=given.until.isoformat() if given.until else None,
    )
    of = {r["facility"] for r in ledger.mirror.lookup("audits", "entry_id", ids).values()}
    by_id = {v.entry_id: v for views in audits_of(ledger, of).values() for v in views}
    # An audit row is its entry's body copied: its facility's audits are the entries of
    # kind audit about it, unless one of the two rows was changed since.
    if lost := next((i for i in ids if i not in by_id), None):
        problem = "audits.facility: its entry is not an audit about that facility"
        raise damaged("audits", lost, problem)
    views = [by_id[i] for i in ids]
    if status is None and severity is None and indicator is None:
        return views

    def wanted(finding: FindingView) -> bool:
        return (
            (status is None or finding.status == status)
            and (severity is None or finding.severity == severity)
            and (indicator is None or indicator in finding.ilo_indicators)
        )

    return [v for v in views if any(wanted(f) for f in v.findings)]


def attestations(
    ledger: Ledger, facility_id: str, *, on: dt.date | None = None
) -> list[AttestationView]:
    """A facility's (by 0x id or OS id) attestations; `in_force` when valid on `on`
    (default today), not revoked, and anchored or pending."""
    found = ledger.facility_id(facility_id)
    return attestations_of(ledger, [found], on=on).get(found, [])


def attestations_of(
    ledger: Ledger, facility_ids: Iterable[str], *, on: dt.date | None = None
) -> dict[str, list[AttestationView]]:
    """`attestations` of many facilities in a few queries; those with none are absent."""
    day = on or dt.datetime.now(dt.UTC).date()
    return attestation_views(ledger.mirror.timelines, ledger.revoked, facility_ids, day)
