"""Auditors, suppliers and the exchange of signed entries: `audit`, `finding update`,
`attest`, `revoke`, `import` and `schema`.

Auditors and suppliers sign offline and send signed entry files; the brand
imports (re-verifying everything) and anchors them. `--record` stores an entry
in the signer's own workspace instead of, or as well as, writing a file.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from labourledger.cli.context import (
    IssuedAtOption,
    OutputOption,
    RecordOption,
    deliver,
    next_step,
    options_for,
    out,
    parse_when,
    pending_hint,
    state,
)
from labourledger.errors import parse_date
from labourledger.vocabulary import (
    Claim,
    FindingStatus,
    IloIndicator,
    Severity,
    VerificationMethod,
)

audit_app = typer.Typer(help="Auditors' inspection results.", no_args_is_help=True)
finding_app = typer.Typer(help="Follow-up of audit findings.", no_args_is_help=True)

EvidenceOption = Annotated[
    list[Path] | None, typer.Option("--evidence", metavar="FILE", help="Evidence file. Repeat.")
]


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.add_typer(audit_app, name="audit")
    app.add_typer(finding_app, name="finding")
    app.command("attest")(attest)
    app.command("revoke")(revoke)
    app.command("import")(import_files)
    app.command("schema")(schema)


# audit --------------------------------------------------------------------


@audit_app.command("new")
def audit_new(
    ctx: typer.Context,
    facility: Annotated[str, typer.Argument(help="Facility id or OS id.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Facility name, if not registered here.")
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="Template file.")] = Path(
        "audit.json"
    ),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite --output if it exists (filled in or not).")
    ] = False,
) -> None:
    """Write a fillable audit template for a facility.

    Example: labourledger audit new IN2024007SPNC3S -o audit.json
    """
    from labourledger.audit_template import write_audit_template

    st = state(ctx)
    with options_for(output="--output"):
        written = write_audit_template(st.ledger, facility, output, name=name, overwrite=force)
    st.emit(
        {"file": str(output), "facility": written.facility, "facility_name": written.facility_name},
        lambda: out.print(f"wrote {output} for {written.facility_name}"),
    )
    next_step(f"fill it in, then `labourledger audit sign {output} --key auditor`")


@audit_app.command("sign")
def audit_sign(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The filled-in audit template (or a bare body).")],
    evidence: Annotated[
        list[str] | None,
        typer.Option(
            "--evidence",
            metavar="[FINDING=]FILE",
            help="Evidence file; FINDING=FILE attaches it to a finding. Repeat.",
        ),
    ] = None,
    record: RecordOption = False,
    output: OutputOption = None,
    issued_at: IssuedAtOption = None,
) -> None:
    """Validate and sign an audit (with --key, default auditor); evidence is stored by hash.

    Example: labourledger audit sign audit.json --key auditor --evidence report.pdf -o signed.json
    """
    from labourledger.audit_template import EvidenceFor, sign_audit

    st = state(ctx)
    wanted = []
    for item in evidence or []:
        finding, sep, name = item.partition("=")
        wanted.append(EvidenceFor(Path(name), finding) if sep else EvidenceFor(Path(item)))
    with st.ledger.evidence_staged():
        entry = sign_audit(st.ledger, st.signer_as, file, wanted, issued_at=parse_when(issued_at))
        deliver(st, entry, output, record)


@audit_app.command("list")
def audit_list(
    ctx: typer.Context,
    facility: Annotated[
        str | None, typer.Option("--facility", help="Facility id or OS id.")
    ] = None,
    status: Annotated[
        FindingStatus | None, typer.Option("--status", help="Current finding status.")
    ] = None,
    severity: Annotated[
        Severity | None, typer.Option("--severity", help="Finding severity.")
    ] = None,
    indicator: Annotated[
        IloIndicator | None, typer.Option("--indicator", help="ILO indicator.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Ended on or after (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Ended on or before (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Audits, filtered by facility, finding status, severity, ILO indicator and end date.

    Example: labourledger audit list --severity critical --status open
    """
    st = state(ctx)
    views = st.ledger.audits(
        facility=facility,
        status=status,
        severity=severity,
        indicator=indicator,
        since=since,
        until=until,
    )

    def human() -> None:
        from rich.table import Table

        table = Table("audit", "facility", "standard", "notice", "ended", "findings", "state")
        for v in views:
            table.add_row(
                v.entry_id[:14] + "…",
                v.facility[:14] + "…",
                v.body.standard,
                v.body.notice,
                v.body.end_date.isoformat(),
                f"{len(v.findings)} ({len(v.open_findings)} open)",
                v.state,
            )
        out.print(table)

    st.emit([v.model_dump(mode="json") for v in views], human)


@audit_app.command("show")
def audit_show(
    ctx: typer.Context, audit_id: Annotated[str, typer.Argument(help="Audit entry id.")]
) -> None:
    """An audit's findings, each with its history and anchor times.

    Example: labourledger audit show 0x3f2a… --json
    """
    from labourledger.accreditations import accredited
    from labourledger.presentation import Party

    st = state(ctx)
    view = st.ledger.audit(audit_id)
    named = accredited(st.ledger, [view.issuer]).get(view.issuer.lower())
    firm = Party(view.issuer, named.organisation, named.detail) if named else None

    def human() -> None:
        from rich.table import Table

        b = view.body
        out.print(
            f"[bold]{b.standard}[/bold] {b.audit_type} audit, {b.notice}, "
            f"{b.start_date} to {b.end_date}, {b.workers_interviewed} workers interviewed"
        )
        out.print(f"audit {view.entry_id}: {view.state}")
        if firm is None:
            out.print(f"by {Party(view.issuer).label}")
        else:
            out.print(f"by [bold]{firm.label}[/bold] ({firm.detail})\n   {firm.address}")
        for f in view.findings:
            indicators = ", ".join(f.ilo_indicators) or "no ILO indicator"
            out.print(f"\n[bold]{f.id}[/bold] {f.severity}: {f.description} ({indicators})")
            out.print(f"  current status: [bold]{f.status}[/bold]")
            table = Table("status", "by", "method", "state", "anchored at", "block")
            for h in f.history:
                when = h.anchor.timestamp if h.anchor else None
                block = h.anchor.block_number if h.anchor else None
                table.add_row(
                    h.status,
                    h.by,
                    h.verification_method or "",
                    h.state,
                    _iso(when) if when else "",
                    str(block or ""),
                )
            out.print(table)

    organisation = named.organisation if named else None
    st.emit(view.model_dump(mode="json") | {"issuer_organisation": organisation}, human)


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


# findings, attestations, revocations ----------------------------------------


@finding_app.command("update")
def finding_update(
    ctx: typer.Context,
    audit_id: Annotated[str, typer.Argument(help="The audit's entry id.")],
    finding_id: Annotated[str, typer.Argument(help="The finding's id within the audit, e.g. F-1.")],
    status: Annotated[FindingStatus, typer.Option("--status", help="The finding's new status.")],
    method: Annotated[
        VerificationMethod, typer.Option("--method", help="How it was verified.")
    ] = VerificationMethod.ONSITE,
    on: Annotated[
        str | None, typer.Option("--on", help="Verified on (YYYY-MM-DD; default today).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="What was verified.")] = None,
    evidence: EvidenceOption = None,
    record: RecordOption = False,
    output: OutputOption = None,
    issued_at: IssuedAtOption = None,
) -> None:
    """Sign a new status for one finding of an audit (with --key, default auditor).

    Example: labourledger finding update 0x3f2a… F-1 --status closed --method onsite --record
    """
    from labourledger.audit_template import sign_finding_update

    st = state(ctx)
    verified_on = parse_date(on, "--on") if on else None
    with st.ledger.evidence_staged(), options_for(verified_on="--on"):
        entry = sign_finding_update(
            st.ledger,
            st.signer_as,
            audit_id,
            finding_id,
            status=status,
            method=method,
            verified_on=verified_on,
            note=note,
            evidence=evidence or [],
            issued_at=parse_when(issued_at),
        )
        deliver(st, entry, output, record)


def attest(
    ctx: typer.Context,
    facility: Annotated[str, typer.Argument(help="Facility id or OS id.")],
    claim: Annotated[
        Claim,
        typer.Option(
            "--claim",
            help="A self-declaration; other needs --statement; certificate (an AUDITOR's) "
            "needs --standard and --certificate-number.",
        ),
    ],
    valid_from: Annotated[str, typer.Option("--from", help="Valid from (YYYY-MM-DD).")],
    valid_until: Annotated[str, typer.Option("--until", help="Valid until (YYYY-MM-DD).")],
    statement: Annotated[
        str | None, typer.Option("--statement", help="Free text of the claim.")
    ] = None,
    standard: Annotated[
        str | None, typer.Option("--standard", help="Certificate standard.")
    ] = None,
    number: Annotated[
        str | None, typer.Option("--certificate-number", help="Certificate number.")
    ] = None,
    evidence: EvidenceOption = None,
    record: RecordOption = False,
    output: OutputOption = None,
    issued_at: IssuedAtOption = None,
) -> None:
    """Sign a supplier self-declaration (SUPPLIER key) or a certificate (AUDITOR key).

    Example: labourledger attest IN2024007SPNC3S --claim no_recruitment_fees
    --from 2026-01-01 --until 2026-12-31 --key supplier -o declaration.json
    """
    from labourledger.attesting import sign_attestation

    st = state(ctx)
    start, end = parse_date(valid_from, "--from"), parse_date(valid_until, "--until")
    named = {"standard": "--standard", "certificate_number": "--certificate-number"}
    with st.ledger.evidence_staged(), options_for(**named, statement="--statement"):
        entry = sign_attestation(
            st.ledger,
            st.signer_as,
            facility,
            claim=claim,
            valid_from=start,
            valid_until=end,
            statement=statement,
            standard=standard,
            certificate_number=number,
            evidence=evidence or [],
            issued_at=parse_when(issued_at),
        )
        deliver(st, entry, output, record)


def revoke(
    ctx: typer.Context,
    entry_id: Annotated[str, typer.Argument(help="The entry to withdraw.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn.")],
    record: RecordOption = False,
    output: OutputOption = None,
) -> None:
    """Withdraw an entry (signed by its issuer or an admin, with --key).

    Example: labourledger revoke 0x3f2a… --reason "wrong facility" --key supplier -o revoke.json
    """
    from labourledger.revoking import sign_revocation

    st = state(ctx)
    entry = sign_revocation(st.ledger, entry_id, reason, lambda: st.signer(purpose="revoke"))
    deliver(st, entry, output, record)


def import_files(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Signed entry files from other parties.")],
) -> None:
    """Verify signed entry files (signature, hash, schema, the issuer's role) and store them
    all, or none of them if one is refused.

    Example: labourledger import audit-3f2a1b.json --json
    """
    from labourledger.cli.hints import not_operator

    st = state(ctx)
    results: list[dict[str, Any]] = [
        {
            "file": str(file),
            "entries": ["0x" + e.entry_id.hex() for e in result.entries],
            "new": result.new,
            "already_present": len(result.entries) - result.new,
            "warnings": [not_operator(w) for w in result.warnings],
        }
        for file, result in zip(files, st.ledger.import_files(files), strict=True)
    ]

    def human() -> None:
        for r in results:
            if not r["entries"]:
                out.print(f"{r['file']}: no entries in it, nothing imported")
            if r["new"]:
                out.print(f"{r['file']}: imported {r['new']} entries, verified")
            if r["already_present"]:
                out.print(f"{r['file']}: {r['already_present']} already here, nothing to do")
            for warning in r["warnings"]:
                out.print(f"[yellow]{r['file']}: {warning}[/yellow]")

    st.emit(results, human)
    pending_hint(st)


def schema(
    kind: Annotated[
        str,
        typer.Argument(
            help="A published format (entry-file, trace, …) or an entry kind (audit, …); "
            "a wrong one lists them all."
        ),
    ],
) -> None:
    """Print a versioned JSON Schema: of a published format (the signed entry file, the
    bundle, `verify --json`, `trace --json`), or of an entry kind's body.

    Example: labourledger schema trace
    """
    from labourledger.schemas import schema_of

    sys.stdout.write(json.dumps(schema_of(kind), indent=2) + "\n")
