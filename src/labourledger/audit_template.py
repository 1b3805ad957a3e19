"""The fillable audit template: what `audit new` writes for an auditor, and how a filled-in
template (or a bare audit body) is read back for signing; and the auditor's later word on
one finding of a signed audit.

The template's choices are the models' own vocabularies, so it offers exactly what a
signed audit may hold.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labourledger.errors import InputError, NextStep, a_kind
from labourledger.vocabulary import (
    AuditStandard,
    AuditType,
    FindingStatus,
    IloIndicator,
    Notice,
    Severity,
    VerificationMethod,
)

if TYPE_CHECKING:
    from labourledger.envelope import SignedEntry
    from labourledger.ledger import Ledger
    from labourledger.recording import Signer

__all__ = [
    "AuditTemplate",
    "EvidenceFor",
    "TemplateExists",
    "attach_evidence",
    "audit_template",
    "read_audit",
    "sign_audit",
    "sign_finding_update",
    "write_audit_template",
]


@dataclass(frozen=True)
class AuditTemplate:
    """A template written for a facility."""

    file: Path
    facility: str
    facility_name: str


@dataclass(frozen=True)
class EvidenceFor:
    """An evidence file for the whole audit (`finding` None) or for one of its findings."""

    file: Path
    finding: str | None = None


def audit_template(facility_id: str, facility_name: str) -> dict[str, Any]:
    """A template with every choice listed and one example finding."""
    return {
        "kind": "audit",
        "facility_name": facility_name,
        "choices": {
            "standard": list(AuditStandard),
            "audit_type": list(AuditType),
            "notice": list(Notice),
            "severity": list(Severity),
            "ilo_indicators": list(IloIndicator),
            "status": list(FindingStatus),
        },
        "body": {
            "facility": facility_id,
            "standard": AuditStandard.SMETA_4_PILLAR,
            "audit_type": AuditType.PERIODIC,
            "notice": Notice.ANNOUNCED,
            "start_date": "YYYY-MM-DD",
            "end_date": "YYYY-MM-DD",
            "workers_interviewed": 0,
            "result": "pass",
            "valid_until": "YYYY-MM-DD",
            "findings": [
                {
                    "id": "F-1",
                    "clause": "",
                    "ilo_indicators": [],
                    "severity": Severity.MINOR,
                    "description": "",
                    "status": FindingStatus.OPEN,
                }
            ],
        },
    }


class TemplateExists(InputError):
    """The template's file exists already, perhaps filled in by an auditor."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"output: {path} exists already (perhaps filled in)", next_step=NextStep.OVERWRITE
        )
        self.path = path


def write_audit_template(
    ledger: Ledger,
    facility: str,
    output: Path,
    *,
    name: str | None = None,
    overwrite: bool = False,
) -> AuditTemplate:
    """Write the template for `facility` (an id or OS id) to `output`; `name` names a facility
    not registered in this workspace. An existing `output` is kept (TemplateExists) unless
    `overwrite`."""
    from labourledger.exchange import write_output

    try:
        exists = output.exists()
    except OSError as exc:  # a name too long for the file system, say
        raise InputError(f"{output}: cannot write ({exc.strerror})") from None
    if exists and not overwrite:
        raise TemplateExists(output)
    facility_id = ledger.facility_id(facility)
    known = ledger.mirror.facility(facility_id)
    facility_name = known["name"] if known else name
    if facility_name is None:
        raise InputError(
            f"facility {facility}: not registered in this workspace; name it, "
            "or import the brand's facility entry file first"
        )
    write_output(output, json.dumps(audit_template(facility_id, facility_name), indent=2) + "\n")
    return AuditTemplate(output, facility_id, facility_name)


def read_audit(path: Path) -> dict[str, Any]:
    """The audit body of a filled-in template (or of a file holding a bare body), with empty
    optional strings dropped, validated against the audit model."""
    from labourledger import kinds
    from labourledger.exchange import read_json

    data = read_json(path)
    body = data.get("body", data) if isinstance(data, dict) else None
    if not isinstance(body, dict):
        raise InputError(f"{path}: expected an audit template or an audit body (a JSON object)")
    # Empty optional strings in a filled-in template mean "not given".
    body = {k: v for k, v in body.items() if v != ""}
    findings = body.get("findings", [])
    if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
        raise InputError(f"{path}: findings: expected a list of objects")
    body["findings"] = [{k: v for k, v in f.items() if v != ""} for f in findings]
    kinds.parse_body("audit", body)
    return body


def attach_evidence(
    ledger: Ledger, body: dict[str, Any], evidence: Sequence[EvidenceFor], source: Path
) -> dict[str, Any]:
    """`body` with each evidence file stored (call inside `ledger.evidence_staged()`) and its
    reference added to the audit or to the finding it names."""
    findings = {f.get("id"): f for f in body["findings"]}
    for item in evidence:
        ref = ledger.store_evidence(item.file).model_dump()
        if item.finding is None:
            body["evidence"] = [*body.get("evidence", []), ref]
        elif item.finding in findings:
            target = findings[item.finding]
            target["evidence"] = [*target.get("evidence", []), ref]
        else:
            raise InputError(f"evidence {item.file}: no finding {item.finding!r} in {source}")
    return body


def sign_audit(
    ledger: Ledger,
    signer: Signer,
    path: Path,
    evidence: Sequence[EvidenceFor] = (),
    *,
    issued_at: int | None = None,
) -> SignedEntry:
    """The audit of a filled-in template (or bare body) at `path`, checked (`read_audit`),
    with each `evidence` file stored (call inside `ledger.evidence_staged()`) and attached
    to the audit or its finding, signed by `signer` (an AUDITOR's), asked for only then;
    nothing else is stored."""
    from labourledger.recording import signer_for

    body = attach_evidence(ledger, read_audit(path), evidence, path)
    return ledger.sign("audit", body, signer_for(signer, "audit", body), issued_at=issued_at)


def sign_finding_update(
    ledger: Ledger,
    signer: Signer,
    audit_id: str,
    finding_id: str,
    *,
    status: FindingStatus,
    method: VerificationMethod = VerificationMethod.ONSITE,
    verified_on: dt.date | None = None,
    note: str | None = None,
    evidence: Sequence[Path] = (),
    issued_at: int | None = None,
) -> SignedEntry:
    """A new status of one finding of an audit held here, verified by `method` on
    `verified_on` (default today), signed by `signer` (an AUDITOR's) with its `evidence`
    files stored (call inside `ledger.evidence_staged()`); nothing else is stored. The
    body is checked before any file is stored or `signer` asked for."""
    from labourledger.envelope import to_hex
    from labourledger.recording import checked, sign_with_evidence

    audit = ledger.entry(audit_id)
    if audit.kind != "audit":
        raise InputError(f"entry {audit_id}: {a_kind(audit.kind)}, not an audit")
    if finding_id not in {f["id"] for f in audit.body["findings"]}:
        raise InputError(f"finding {finding_id!r}: not in audit {to_hex(audit.entry_id)}")
    if verified_on is not None:
        _check_verified_on(verified_on, audit.body["end_date"], issued_at)
    body = checked(
        "finding_update",
        {
            "audit": to_hex(audit.entry_id),
            "finding_id": finding_id,
            "status": status,
            "verification_method": method,
            "verified_on": verified_on or dt.date.today(),
            "note": note,
        },
    )
    if not evidence:
        _refuse_restated(ledger, to_hex(audit.entry_id), body)
    return sign_with_evidence(
        ledger, "finding_update", body, signer, evidence=evidence, issued_at=issued_at
    )


def _check_verified_on(verified_on: dt.date, audit_end: str, issued_at: int | None) -> None:
    """A finding is verified after its audit ended and no later than it is signed (a day's
    grace for time zones: the signing day is UTC's)."""
    signed = dt.datetime.fromtimestamp(issued_at, dt.UTC) if issued_at else dt.datetime.now(dt.UTC)
    if verified_on > signed.date() + dt.timedelta(days=1):
        raise InputError(
            f"verified_on: {verified_on} is after the day it is signed ({signed:%Y-%m-%d})"
        )
    if verified_on.isoformat() < audit_end:
        raise InputError(f"verified_on: {verified_on} is before the audit ended ({audit_end})")


def _refuse_restated(ledger: Ledger, audit_id: str, body: dict[str, Any]) -> None:
    """Refuse an update, without new evidence, that says what a standing one (not revoked;
    pending or anchored) of the same finding says: it would be signed, anchored and read as
    a second verification that never happened."""
    from labourledger import kinds

    said = kinds.parse_body("finding_update", body)
    rows = ledger.mirror.timeline(audit_id, "finding_update")
    revoked = ledger.revoked(r["entry_id"] for r in rows)
    for row in rows:
        if (
            row["entry_id"] not in revoked
            and kinds.parse_body("finding_update", row["body"]) == said
        ):
            raise InputError(
                f"finding {body['finding_id']!r}: update {row['entry_id']} says this already "
                "(status, method, date and note); give evidence, or what changed"
            )
