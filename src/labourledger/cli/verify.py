"""`verify` a batch (or a bundle) and `export` its bundle or tracing report."""

from __future__ import annotations

from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labourledger.cli.context import chain_at, next_step, options_for, out, progress_bar, state
from labourledger.errors import InputError
from labourledger.vocabulary import MissingAudit, Notice, Severity

#: The option that overrides each policy setting, to name it in a refusal of its value.
POLICY_OPTIONS = {
    "audit_validity_months": "--audit-months",
    "fail_severities": "--fail-severity",
    "attention_severities": "--attention-severity",
    "high_risk_notice": "--high-risk-notice",
    "required_tier": "--required-tier",
    "missing_audit": "--missing-audit",
    "goods_list": "--goods-list",
    "look_ahead_months": "--look-ahead-months",
    "trusted_admins": "--trust-admin",
}
#: Exit codes of `verify` by verdict, as README's "Buyers verify a batch" gives them.
EXIT_CODES = {"PASS": 0, "ATTENTION": 4, "FAIL": 5}
COLOURS = {"PASS": "green", "ATTENTION": "yellow", "FAIL": "red"}


class ExportFormat(StrEnum):
    """What `export` writes."""

    BUNDLE = "bundle"
    REPORT = "report"
    EPCIS = "epcis"


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("verify")(verify)
    app.command("export")(export)


def verify(
    ctx: typer.Context,
    batch: Annotated[
        str | None, typer.Argument(help="Batch id or lot (omit with --bundle).")
    ] = None,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Verify this bundle instead.")
    ] = None,
    chain: Annotated[
        str | None,
        typer.Option("--chain", help="RPC URL for --bundle (default: this workspace's chain)."),
    ] = None,
    audit_months: Annotated[
        int | None, typer.Option("--audit-months", help="Audit validity.")
    ] = None,
    fail_severity: Annotated[
        list[Severity] | None,
        typer.Option("--fail-severity", help="Fails (repeat; every worse one too)."),
    ] = None,
    attention_severity: Annotated[
        list[Severity] | None,
        typer.Option("--attention-severity", help="Needs attention (repeat; worse ones too)."),
    ] = None,
    notice: Annotated[
        list[Notice] | None,
        typer.Option("--high-risk-notice", help="Notice high-risk goods need. Repeat."),
    ] = None,
    required_tier: Annotated[
        int | None, typer.Option("--required-tier", help="Trace depth (1-4).")
    ] = None,
    missing_audit: Annotated[
        MissingAudit | None,
        typer.Option("--missing-audit", help="Outcome for a facility with no audit."),
    ] = None,
    goods_list: Annotated[
        Path | None,
        typer.Option("--goods-list", help="DOL goods list JSON in the shipped snapshot's format."),
    ] = None,
    look_ahead: Annotated[
        int | None,
        typer.Option(
            "--look-ahead-months",
            help="Audits ending up to this many months after a production date count (default 6).",
        ),
    ] = None,
    trust_admin: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-admin",
            metavar="ADDRESS",
            help="Admin address whose accreditations count. Repeat.",
        ),
    ] = None,
    all_checks: Annotated[
        bool,
        typer.Option(
            "--all-checks",
            help="List every check, audit, finding and entry; by default passes are counted "
            "per check, only the audits the verdict weighs or does not count are summarised, "
            "and only entries needing attention listed.",
        ),
    ] = False,
) -> None:
    """Verify a batch's labour provenance end to end: exit 0 PASS, 4 ATTENTION, 5 FAIL.

    Example: labourledger verify TEE-L7 --audit-months 12 --json
    """
    from labourledger.kinds import checksum_address

    for admin in trust_admin or ():  # named as the option, not as the policy setting
        checksum_address(admin, "--trust-admin")
    st = state(ctx)
    overrides: dict[str, Any] = {
        "audit_validity_months": audit_months,
        "fail_severities": tuple(fail_severity or ()) or None,
        "attention_severities": tuple(attention_severity or ()) or None,
        "high_risk_notice": tuple(notice or ()) or None,
        "required_tier": required_tier,
        "missing_audit": missing_audit,
        "goods_list": str(goods_list.resolve()) if goods_list else None,
        "look_ahead_months": look_ahead,
        "trusted_admins": tuple(trust_admin or ()) or None,
    }
    from labourledger.cli.hints import step

    # A refused override is named as the option given; one from config.toml, as its setting.
    given = {f"policy {k}": POLICY_OPTIONS[k] for k, v in overrides.items() if v is not None}

    if bundle is not None and batch is not None:
        raise InputError("BATCH: give a batch or --bundle FILE, not both (a bundle names its own)")
    if bundle is None and chain is not None:
        raise InputError("--chain: only with --bundle; a workspace's batch is checked on its chain")
    if bundle is not None:
        from labourledger.bundle import read_bundle
        from labourledger.bundling import verify_bundle

        data = read_bundle(bundle)
        with progress_bar(st, "verifying entries") as progress, options_for(**given):
            report = verify_bundle(
                data,
                chain_at(st, chain),
                progress=progress,
                all_checks=all_checks,
                say=step,
                **overrides,
            )
    elif batch is None:
        raise InputError("BATCH: name a batch, or pass --bundle FILE")
    else:
        with options_for(**given):
            policy = st.ledger.policy(**overrides)
        with progress_bar(st, "verifying entries") as progress:
            report = st.ledger.verify(
                batch,
                policy,
                progress=progress,
                all_checks=all_checks,
                say=step,
            )
    st.emit(report, lambda: print_report(report))
    raise typer.Exit(EXIT_CODES[report["verdict"]])


def print_report(report: dict[str, Any]) -> None:
    """The summary table, then every reason that is not a pass, grouped by facility."""
    from rich.table import Table

    verdict = report["verdict"]
    counts = report["counts"]
    batch = report["batch"]
    lot = batch.get("lot")  # None for a batch not registered here
    short = f"{batch['batch_id'][:14]}..."
    summary = Table(title=f"batch {lot} ({short})" if lot is not None else f"batch {short}")
    for column in ("verdict", "pass", "attention", "fail"):
        summary.add_column(column)
    summary.add_row(
        f"[bold {COLOURS[verdict]}]{verdict}[/]",
        str(counts["pass"]),
        str(counts["attention"]),
        str(counts["fail"]),
    )
    out.print(summary)
    if report["chain"]["embedded"]:
        out.print("[yellow]evidence anchored only on the embedded development chain[/yellow]")
    names = {s["facility"]["facility_id"]: s["facility"]["name"] for s in report["stages"]}
    groups: dict[str, list[dict[str, Any]]] = {}
    for check in report["checks"]:
        if check["outcome"] != "pass":
            where = names.get(check["facility"] or "", "batch and evidence")
            groups.setdefault(where, []).append(check)
    trust = report.get("trust") or {}
    if trust and not trust["trusted_admins"]:
        admins = ", ".join(trust["admins"]) or "none"
        out.print(
            f"[yellow]trusted the contract's own admin(s): {admins}; "
            "name the one you trust with --trust-admin[/yellow]"
        )
    if report.get("ignored"):
        groups["ignored (not counted, the verdict does not rest on them)"] = report["ignored"]
    for where, checks in groups.items():
        out.print(f"\n[bold]{where}[/bold]")
        # Entries of one anchor share a reason (pending: wait N more blocks): one line each.
        same = Counter((c["outcome"], c["check"], c["reason"]) for c in checks)
        for c in checks:
            key = (c["outcome"], c["check"], c["reason"])
            if key not in same:
                continue
            count = same.pop(key)
            colour = COLOURS[c["outcome"].upper()]
            if count > 1:
                entry = f" [dim]({count} entries)[/dim]"
            else:
                entry = f" [dim]{c['entry_id']}[/dim]" if c.get("entry_id") else ""
            out.print(f"  [{colour}]{c['outcome']}[/] {c['check']}: {c['reason']}{entry}")
    heard = [s for s in report["stages"] if (s.get("grievances") or {}).get("total")]
    if heard:
        out.print("\n[bold]Worker grievances (counts only)[/bold]")
    for stage in heard:
        out.print(f"  {stage['facility']['name']}: {stage['grievances']['summary']}")


def export(
    ctx: typer.Context,
    batch: Annotated[str, typer.Argument(help="Batch id or lot.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write.")],
    kind: Annotated[
        ExportFormat,
        typer.Option("--format", help="bundle (JSON), report (HTML) or epcis (EPCIS 2.0 JSON-LD)."),
    ] = ExportFormat.BUNDLE,
) -> None:
    """Write a batch's self-contained bundle, its tracing report as one HTML file, or its
    lineage as an EPCIS 2.0 document.

    Example: labourledger export TEE-L7 --format report -o tracing-report.html
    """
    st = state(ctx)
    if kind == "bundle":
        from labourledger.bundling import write_bundle

        bundle = write_bundle(st.ledger, batch, output)
        data = {"file": str(output), "format": bundle.format, "entries": len(bundle.entries)}
        st.emit(data, lambda: out.print(f"wrote {output}: {data['entries']} entries"))
        next_step(f"anyone can check it: `labourledger verify --bundle {output} --chain RPC_URL`")
    elif kind == "report":
        from labourledger.report import export_report

        report = export_report(st.ledger, batch, output)
        data = {"file": str(output), "verdict": report["verdict"]}
        st.emit(data, lambda: out.print(f"wrote {output} (verdict {report['verdict']})"))
    else:
        from labourledger.epcis import write_document

        document = write_document(st.ledger, batch, output)
        events = document["epcisBody"]["eventList"]
        data = {"file": str(output), "format": "epcis", "events": len(events)}
        st.emit(data, lambda: out.print(f"wrote {output}: {len(events)} EPCIS events"))
